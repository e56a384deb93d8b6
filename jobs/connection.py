"""The one place a Redis client is built. Everything else receives a connection explicitly."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from redis import Redis
from redis.sentinel import Sentinel
from rq.utils import as_text

from jobs.settings import Settings

SOCKET_TIMEOUT = 10.0  # seconds; long enough for BLPOP-free commands, short enough to notice a dead Redis
CONNECT_TIMEOUT = 2.0  # seconds to open a TCP connection before we call Redis unreachable


def connect(settings: Settings) -> Redis:
    """Return a client for ``settings.redis.url``.

    ``decode_responses`` stays off: RQ stores pickled job data. ``redis+sentinel://h1:p1,h2:p2/name/db``
    asks the sentinels for the current master of ``name``.
    """
    return connect_url(settings.redis.url)


def connect_url(url: str, timeout: float | None = None) -> Redis:
    """Like :func:`connect` for a bare URL (tests, the launcher); ``timeout`` shortens both socket
    timeouts (a quick "does anything answer?")."""
    parts = urlsplit(url)
    if parts.scheme == "redis+sentinel":
        return _sentinel_master(url, timeout)
    return Redis.from_url(
        url,
        socket_timeout=timeout or SOCKET_TIMEOUT,
        socket_connect_timeout=timeout or CONNECT_TIMEOUT,
        health_check_interval=30,
    )


def _sentinel_master(url: str, timeout: float | None = None) -> Redis:
    parts = urlsplit(url)
    hosts = []
    for item in parts.netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = item.partition(":")
        hosts.append((host, int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    service = path[0]
    db = int(path[1]) if len(path) > 1 else 0
    options = {k: v[0] for k, v in parse_qs(parts.query).items()}
    sentinel = Sentinel(
        hosts,
        socket_timeout=timeout or SOCKET_TIMEOUT,
        socket_connect_timeout=timeout or CONNECT_TIMEOUT,
        sentinel_kwargs={"password": options.get("sentinel_password")}
        if "sentinel_password" in options
        else None,
    )
    return sentinel.master_for(service, db=db, password=parts.password or None)


def texts(raw: Any) -> list[str]:
    """A Redis reply listing members (bytes) as strings; typed for mypy, since redis-py's stubs union
    every reply shape."""
    return [as_text(item) for item in raw]


def scored(raw: Any) -> list[tuple[str, float]]:
    """A ``withscores=True`` sorted-set reply as (member, score) pairs."""
    return [(as_text(member), float(score)) for member, score in raw]
