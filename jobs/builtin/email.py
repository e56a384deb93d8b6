"""``email.send``: one email through the SMTP relay in the environment (owner notices, alerts, your own tasks).

SMTP settings: ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USERNAME``/``SMTP_PASSWORD`` (login when set),
``SMTP_STARTTLS`` or ``SMTP_SSL``, ``SMTP_FROM``, ``SMTP_TIMEOUT``. A refused or unreachable relay
raises, so the task's retry policy applies. Returns ``{"sent": true, "email": <to>}``.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from jobs.handler_context import job_settings
from jobs.registry import task
from jobs.retry import RetryPolicy
from jobs.settings import Settings

MAX_BODY = 100_000  # characters of an email body


def send_email(settings: Settings, to: str, subject: str, body: str) -> dict[str, object]:
    """Send one plain-text email; raise ``smtplib.SMTPException``/``OSError`` on failure."""
    if "@" not in to or "\n" in to or "\r" in to:
        raise ValueError(f"not an email address: {to!r}")
    if "\n" in subject or "\r" in subject:
        raise ValueError("the subject must be one line")
    message = EmailMessage()
    message["From"] = settings.smtp.sender
    message["To"] = to
    message["Subject"] = subject[:200]
    message["Message-ID"] = make_msgid(domain=settings.smtp.sender.rpartition("@")[2] or None)
    message.set_content(body[:MAX_BODY])
    smtp_class = smtplib.SMTP_SSL if settings.smtp.ssl else smtplib.SMTP
    with smtp_class(settings.smtp.host, settings.smtp.port, timeout=settings.smtp.timeout) as smtp:
        if settings.smtp.starttls and not settings.smtp.ssl:
            smtp.starttls()
        if settings.smtp.username:
            smtp.login(settings.smtp.username, settings.smtp.password or "")
        smtp.send_message(message)
    return {"sent": True, "email": to}


@task(
    "email.send",
    retry=RetryPolicy(max_retries=3, backoff="exponential", delay=30, jitter=0.1),
    timeout=60,
    description="Send one email through the SMTP relay (SMTP_* settings); returns {sent, email}.",
)
def send(to: str, subject: str, body: str) -> dict[str, object]:
    """Owner notifications, alerts and magic links all go through here."""
    return send_email(job_settings(), to, subject, body)
