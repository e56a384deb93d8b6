"""The web process and who may use it: its port and size, tokens, sessions, the secrets at rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from jobs.settings.declare import setting
from jobs.settings.readers import FLAG, OPTIONAL_TEXT, VERBATIM, token, whole


@dataclass(frozen=True)
class WebSettings:
    """The web process (gunicorn) and the API's request limits."""

    TITLE: ClassVar[str] = "The web process and the API"

    port: int = setting(
        "PORT", 5000, whole(minimum=1, maximum=65535), "the web process's port (Heroku sets PORT)"
    )
    concurrency: int = setting(
        "WEB_CONCURRENCY", 2, whole(minimum=1), "gunicorn worker processes for the web process"
    )
    max_body_bytes: int = setting(
        "MAX_BODY_BYTES", 1_048_576, whole(minimum=1024), "largest request body the API accepts (413 above)"
    )
    idempotency_ttl: int = setting(
        "IDEMPOTENCY_TTL",
        24 * 3600,
        whole(minimum=1),
        "seconds an Idempotency-Key's first response is replayed",
    )
    trusted_proxies: int = setting(
        "TRUSTED_PROXIES", 0, whole(), "proxies in front of web whose X-Forwarded-For is trusted (Heroku: 1)"
    )


@dataclass(frozen=True)
class AccessSettings:
    """Tokens, browser sessions and the keys that protect secrets at rest."""

    TITLE: ClassVar[str] = "Access: tokens, sessions, secrets"

    admin_token: str | None = setting(
        "ADMIN_TOKEN", None, token(16), "bootstrap admin bearer token (16+ characters); make run makes one"
    )
    secret_key: str | None = setting(
        "SECRET_KEY", None, VERBATIM, "signs browser sessions, derives ENCRYPTION_KEY; make run makes one"
    )
    session_lifetime: int = setting(
        "SESSION_LIFETIME", 8 * 3600, whole(minimum=60), "seconds a browser login lasts"
    )
    admin_paths_admin_only: bool = setting(
        "ADMIN_PATHS_ADMIN_ONLY",
        False,
        FLAG,
        "true: all of /admin/ (scheduled tasks, rq-dashboard) is admin-only",
    )
    encryption_key: str | None = setting(
        "ENCRYPTION_KEY",
        None,
        OPTIONAL_TEXT,
        "Fernet keys, first encrypts, all decrypt; unset: from SECRET_KEY",
    )
