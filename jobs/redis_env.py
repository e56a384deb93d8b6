"""``REDIS_HOST`` / ``REDIS_PORT`` / ``REDIS_PASSWORD``: the Bull-style Redis settings of the design notes.

``REDIS_URL`` stays the primary setting (Heroku and most hosts give one). When it is unset, the three
variables build one: ``redis://:PASSWORD@HOST:PORT/0``, defaulting to ``127.0.0.1`` and ``6379``.
When both forms are given they must agree: a ``REDIS_HOST`` that is not the URL's host (or a port or
password that differs) is refused with an error naming both, instead of one silently winning.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, unquote, urlsplit

PARTS = ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD")
DEFAULT_HOST = "127.0.0.1"  # the design notes' `localhost`, without a resolver lookup
DEFAULT_PORT = 6379  # Redis's own default port


class RedisEnvError(ValueError):
    """The Redis variables cannot be used; ``variable`` is the one to fix."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(problem)
        self.variable = variable


def _port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise RedisEnvError("REDIS_PORT", f"expected a port number between 1 and 65535, got {raw!r}")
    return int(raw)


def redis_url(url: str | None, parts: Mapping[str, str | None], default: str) -> str:
    """The Redis URL that ``REDIS_URL`` (``url``) and the three variables (``parts``, by name) ask for;
    unchecked beyond the agreement of both forms (``parse_redis_url`` checks the URL)."""
    url = (url or "").strip()
    given = {name: (value or "").strip() for name, value in parts.items() if name in PARTS}
    given = {name: value for name, value in given.items() if value}
    port = _port(given["REDIS_PORT"]) if "REDIS_PORT" in given else None
    if not url:
        if not given:
            return default
        host = given.get("REDIS_HOST", DEFAULT_HOST)
        host = f"[{host}]" if ":" in host else host
        password = given.get("REDIS_PASSWORD")
        auth = f":{quote(password, safe='')}@" if password else ""
        return f"redis://{auth}{host}:{port or DEFAULT_PORT}/0"
    if given:
        _check_agreement(url, given, port)
    return url


def _check_agreement(url: str, given: dict[str, str], port: int | None) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        names = ", ".join(given)
        raise RedisEnvError(
            names.split(", ")[0], f"{names} cannot be combined with a {parts.scheme}:// REDIS_URL"
        )
    try:
        url_port = parts.port or DEFAULT_PORT
    except ValueError:
        return  # parse_redis_url reports the bad port
    host = given.get("REDIS_HOST")
    if host is not None and host.lower() != (parts.hostname or "").lower():
        raise RedisEnvError(
            "REDIS_HOST", f"{host!r} contradicts REDIS_URL's host {parts.hostname!r}; set one"
        )
    if port is not None and port != url_port:
        raise RedisEnvError("REDIS_PORT", f"{port} contradicts REDIS_URL's port {url_port}; set one")
    password = given.get("REDIS_PASSWORD")
    if password is not None and password != unquote(parts.password or ""):
        raise RedisEnvError("REDIS_PASSWORD", "differs from the password in REDIS_URL; set one")
