"""The built-in integrations' settings: OAuth token refresh and health, and the SMTP relay of email.send."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from jobs.settings.declare import setting
from jobs.settings.readers import FLAG, TEXT, VERBATIM, number, whole


@dataclass(frozen=True)
class OAuthSettings:
    """OAuth integrations (jobs/integrations/, jobs/builtin/oauth.py)."""

    TITLE: ClassVar[str] = "OAuth integrations"

    refresh_lead: int = setting(
        "OAUTH_REFRESH_LEAD", 300, whole(), "seconds before token expiry that the refresh job runs"
    )
    health_interval: int = setting(
        "OAUTH_HEALTH_INTERVAL",
        4 * 3600,
        whole(minimum=1),
        "seconds between health checks of one integration",
    )
    timeout: float = setting(
        "OAUTH_TIMEOUT", 10.0, number(minimum=0.1), "seconds a call to a provider's token endpoint may take"
    )


@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP relay email.send uses (jobs/builtin/email.py)."""

    TITLE: ClassVar[str] = "Email"

    host: str = setting("SMTP_HOST", "localhost", TEXT, "SMTP relay for email.send")
    port: int = setting("SMTP_PORT", 25, whole(minimum=1, maximum=65535), "its port")
    username: str | None = setting("SMTP_USERNAME", None, VERBATIM, "SMTP login, when the relay needs one")
    password: str | None = setting("SMTP_PASSWORD", None, VERBATIM, "its password")
    sender: str = setting("SMTP_FROM", "taskyard@localhost", TEXT, "From: of every email Taskyard sends")
    starttls: bool = setting("SMTP_STARTTLS", False, FLAG, "upgrade the SMTP connection with STARTTLS")
    ssl: bool = setting("SMTP_SSL", False, FLAG, "connect with implicit TLS (SMTPS, usually port 465)")
    timeout: float = setting(
        "SMTP_TIMEOUT", 10.0, number(minimum=0.1), "seconds an SMTP conversation may take"
    )
