"""Redis: where every process connects (``REDIS_URL``, or the design notes' host/port/password)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from jobs.redis_env import RedisEnvError
from jobs.redis_env import redis_url as redis_url_from_env
from jobs.settings.declare import Environment, Reader, Setting, SettingsError, setting
from jobs.settings.readers import FLAG, OPTIONAL_TEXT

_REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel")
DEFAULT_URL = "redis://127.0.0.1:6379/0"

HOST = Setting(
    "REDIS_HOST", None, OPTIONAL_TEXT, "with REDIS_URL unset: host of redis://HOST:PORT/0 (127.0.0.1)"
)
PORT = Setting(
    "REDIS_PORT", None, OPTIONAL_TEXT, "with REDIS_URL unset: its port (6379); set both: they must agree"
)
PASSWORD = Setting(
    "REDIS_PASSWORD", None, OPTIONAL_TEXT, "with REDIS_URL unset: its password; set both: they must agree"
)
TLS_VERIFY = Setting(
    "REDIS_TLS_VERIFY",
    True,
    FLAG,
    "false: accept a rediss:// server's self-signed certificate (Heroku Redis)",
)


def parse_redis_url(raw: str) -> str:
    """Check that ``raw`` is a Redis URL we can connect with; return it stripped.

    Accepts ``redis://``, ``rediss://`` (TLS, as Heroku Redis gives it), ``unix://`` and
    ``redis+sentinel://host:port[,host:port]/service_name[/db]``.
    """
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in _REDIS_SCHEMES:
        raise SettingsError(
            "REDIS_URL", f"expected a redis://, rediss:// or redis+sentinel:// URL, got {raw!r}"
        )
    if parts.scheme == "unix":
        if not parts.path:
            raise SettingsError("REDIS_URL", f"a unix:// URL needs a socket path, got {raw!r}")
        return url
    if not parts.netloc or not parts.hostname:
        raise SettingsError("REDIS_URL", f"no host in {raw!r}")
    if parts.scheme == "redis+sentinel":
        if not parts.path.strip("/"):
            raise SettingsError("REDIS_URL", "a redis+sentinel:// URL needs the service name as its path")
        return url
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError:
        raise SettingsError("REDIS_URL", f"bad port in {raw!r}") from None
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise SettingsError("REDIS_URL", f"the database number must be a whole number, got {db!r}")
    return url


def _tls_unverified(url: str, verify: bool) -> str:
    """REDIS_TLS_VERIFY=false: a rediss:// URL without its own ``ssl_cert_reqs`` gets ``none``, so a
    managed Redis with a self-signed certificate (Heroku's add-on hands out a bare rediss:// URL that
    cannot be edited) connects. A URL's own ``ssl_cert_reqs`` always wins."""
    if verify or not url.startswith("rediss://") or "ssl_cert_reqs=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "ssl_cert_reqs=none"


def _url(variable: str, raw: str | None, default: str, env: Environment) -> str:
    """REDIS_URL, or one built from REDIS_HOST/REDIS_PORT/REDIS_PASSWORD (jobs/redis_env.py)."""
    parts = {each.variable: each.load(env) for each in (HOST, PORT, PASSWORD)}
    try:
        url = redis_url_from_env(raw, parts, default)
    except RedisEnvError as error:
        raise SettingsError(error.variable, str(error)) from None
    return _tls_unverified(parse_redis_url(url), TLS_VERIFY.load(env))


@dataclass(frozen=True)
class RedisSettings:
    """The one Redis every process uses (:func:`jobs.connection.connect`)."""

    TITLE: ClassVar[str] = "Redis"

    url: str = setting(
        "REDIS_URL",
        DEFAULT_URL,
        Reader("text", _url),
        "redis://, rediss:// (TLS), unix:// or redis+sentinel:// URL",
        inputs=(HOST, PORT, PASSWORD, TLS_VERIFY),
    )
