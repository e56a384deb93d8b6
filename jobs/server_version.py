"""The oldest Redis server Taskyard runs on, and the start-up check every process makes against it.

Redis 7.0 is the floor: the code uses commands and options that 6.2 refuses (``EXPIRE ... NX`` among
them), and 6.2 is end of life. Valkey reports ``redis_version:7.2.4`` for compatibility (and its own
``valkey_version``), so one comparison covers both. The check runs once, when a process starts, so an
old server is one clear line and exit status 2 instead of a 500 on some later request.
"""

from __future__ import annotations

import sys
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

MIN_SERVER_VERSION = (7, 0)  # the oldest redis_version (INFO server) Taskyard accepts


def format_version(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def parse_version(text: str) -> tuple[int, ...]:
    """``"7.0.15"`` -> ``(7, 0, 15)``; non-numeric parts end the tuple."""
    parts: list[int] = []
    for piece in text.split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def server_problem(connection: Redis) -> str | None:
    """A one-line reason the server at ``connection`` is too old, or None when it is new enough or
    cannot be asked right now (an unreachable Redis is reported, and waited out, elsewhere)."""
    try:
        info: dict[str, Any] = connection.info("server")
    except (RedisError, OSError):
        return None
    raw = str(info.get("redis_version", ""))
    version = parse_version(raw)
    if not version or version >= MIN_SERVER_VERSION:
        return None
    name = f"Valkey {info['valkey_version']}" if "valkey_version" in info else f"Redis {raw}"
    return f"the server at REDIS_URL is {name}; Taskyard needs Redis >= {format_version(MIN_SERVER_VERSION)}"


def exit_if_too_old(connection: Redis) -> None:
    """For entry points: print the reason and exit with status 2 when the server is too old."""
    problem = server_problem(connection)
    if problem:
        print(f"taskyard: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(2)
