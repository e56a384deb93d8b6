"""OAuth integrations: stored tokens, encrypted at rest, and their stable background jobs.

An integration holds a tenant's OAuth client and tokens for one provider. ``client_secret``,
``access_token`` and ``refresh_token`` are Fernet-encrypted (:mod:`jobs.crypto`) and never leave
through :meth:`Integration.public`. Statuses: ``active``, ``expired`` (a refresh failed; the reason is
kept), ``revoked`` (the provider refused the refresh token: only the owner can reconnect), ``error``.

Each integration has two jobs with **stable ids**: ``oauth-refresh-<id>`` runs ``OAUTH_REFRESH_LEAD``
seconds (5 minutes) before the access token expires, and ``oauth-health-<id>`` every
``OAUTH_HEALTH_INTERVAL`` seconds (4 hours). Registering again replaces the pending job (delete, then
enqueue under the same id), so there is never a duplicate. A running job reschedules *itself* for its
next run through RQ's ``Repeat`` (same job, same id) — see :func:`repeat_current_job`.
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import asdict, dataclass, replace
from typing import Any

from redis import Redis
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from jobs import keys
from jobs.crypto import Cipher
from jobs.enqueue import PENDING, JobRequest, enqueue
from jobs.settings import Settings

REFRESH_TASK = "oauth.refresh"
HEALTH_TASK = "oauth.health_check"


@dataclass(frozen=True)
class Integration:
    id: str
    tenant_id: str
    provider: str
    token_url: str
    client_id: str
    owner_email: str
    client_secret_enc: str
    access_token_enc: str
    refresh_token_enc: str | None
    expires_at: float
    status: str
    status_reason: str | None
    created_at: float
    updated_at: float
    last_refreshed_at: float | None = None
    refreshes: int = 0
    revoked_notified_at: float | None = None

    @property
    def has_refresh_token(self) -> bool:
        return self.refresh_token_enc is not None

    @property
    def refresh_job_id(self) -> str:
        """The id of its one token-refresh job chain."""
        return refresh_job_id(self.id)

    @property
    def health_job_id(self) -> str:
        """The id of its one health-check job chain."""
        return health_job_id(self.id)


def refresh_job_id(integration_id: str) -> str:
    return f"oauth-refresh-{integration_id}"


def health_job_id(integration_id: str) -> str:
    return f"oauth-health-{integration_id}"


def refresh_due(expires_at: float, lead: int) -> float:
    """When to refresh a token expiring at ``expires_at``: ``lead`` seconds before (pure)."""
    return expires_at - lead


class IntegrationStore:
    def __init__(self, connection: Redis, cipher: Cipher) -> None:
        self.connection = connection
        self.cipher = cipher

    def create(self, fields: dict[str, Any], now: float) -> Integration:
        integration = Integration(
            id=f"int_{secrets.token_hex(8)}",
            tenant_id=fields["tenant_id"],
            provider=fields["provider"],
            token_url=fields["token_url"],
            client_id=fields["client_id"],
            owner_email=fields["owner_email"],
            client_secret_enc=self.cipher.encrypt(fields["client_secret"]),
            access_token_enc=self.cipher.encrypt(fields["access_token"]),
            refresh_token_enc=self.cipher.encrypt(fields["refresh_token"])
            if fields.get("refresh_token")
            else None,
            expires_at=now + int(fields["expires_in"]),
            status="active",
            status_reason=None,
            created_at=now,
            updated_at=now,
        )
        return self.save(integration)

    def save(self, integration: Integration) -> Integration:
        self.connection.hset(keys.INTEGRATIONS, integration.id, json.dumps(asdict(integration)))
        return integration

    def update(self, integration: Integration, **changes: Any) -> Integration:
        return self.save(replace(integration, **changes))

    def get(self, integration_id: str) -> Integration | None:
        raw = self.connection.hget(keys.INTEGRATIONS, integration_id)
        return Integration(**json.loads(raw)) if raw else None

    def all(self) -> list[Integration]:
        found = [Integration(**json.loads(raw)) for raw in self.connection.hvals(keys.INTEGRATIONS)]
        return sorted(found, key=lambda i: (i.created_at, i.id))

    def delete(self, integration_id: str) -> bool:
        return bool(self.connection.hdel(keys.INTEGRATIONS, integration_id))

    def secret(self, value: str | None) -> str | None:
        return self.cipher.decrypt(value) if value is not None else None


def _replace_job(connection: Redis, settings: Settings, request: JobRequest) -> Job | None:
    """Enqueue ``request`` under its stable id, replacing a pending job of that id. A job of that id
    that is running now is left alone (it reschedules itself when it ends); returns None then."""
    assert request.job_id is not None
    try:
        existing = Job.fetch(request.job_id, connection=connection)
    except NoSuchJobError:
        existing = None
    if existing is not None:
        if existing.get_status() == JobStatus.STARTED:
            return None
        existing.delete()
    return enqueue(connection, settings, request).job


def schedule_refresh(
    connection: Redis, settings: Settings, integration: Integration, now: float, *, urgent: bool = False
) -> Job | None:
    """(Re)schedule the integration's refresh job: ``OAUTH_REFRESH_LEAD`` seconds before expiry, or
    now at the front of the queue when ``urgent`` or already due."""
    due = refresh_due(integration.expires_at, settings.oauth.refresh_lead)
    delay = None if urgent or due <= now else due - now
    request = JobRequest(REFRESH_TASK, kwargs={"integration_id": integration.id}, job_id=refresh_job_id(integration.id),
                         delay_seconds=delay, at_front=delay is None and urgent)  # fmt: skip
    return _replace_job(connection, settings, request)


def schedule_health(connection: Redis, settings: Settings, integration: Integration) -> Job | None:
    """(Re)schedule the integration's health check, ``OAUTH_HEALTH_INTERVAL`` seconds from now."""
    request = JobRequest(HEALTH_TASK, kwargs={"integration_id": integration.id},
                         job_id=health_job_id(integration.id), delay_seconds=settings.oauth.health_interval)  # fmt: skip
    return _replace_job(connection, settings, request)


def ensure_health(connection: Redis, settings: Settings, integration: Integration) -> Job | None:
    """Schedule the stable health-check chain only if it has no pending job (a one-off check, by hand or
    on demand, must neither start a second chain nor push the existing one back)."""
    try:
        existing = Job.fetch(health_job_id(integration.id), connection=connection)
    except NoSuchJobError:
        existing = None
    if existing is not None and existing.get_status() in PENDING:
        return None
    return schedule_health(connection, settings, integration)


def unschedule(connection: Redis, integration_id: str) -> None:
    """Delete the integration's pending jobs (a running one finds the integration gone and stops)."""
    for job_id in (refresh_job_id(integration_id), health_job_id(integration_id)):
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            continue
        if job.get_status() != JobStatus.STARTED:
            job.delete()


def repeat_current_job(delay: float, stable_id: str) -> bool:
    """Run the job being performed once more, ``delay`` seconds after it ends: same job, same id
    (RQ's ``Repeat``, which the worker applies on success). False outside a worker, and for a job that
    is not the integration's stable one (``stable_id``): a hand-enqueued ``oauth.refresh`` or
    ``oauth.health_check`` runs once and never starts a second chain; the caller reschedules the stable
    job instead."""
    job = get_current_job()
    if job is None or job.id != stable_id:
        return False
    job.repeats_left = 1
    job.repeat_intervals = [max(0, math.ceil(delay))]
    return True
