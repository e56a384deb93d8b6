"""Built-in OAuth jobs: token refresh five minutes before expiry, and integration health.

``oauth.refresh`` calls the provider's token endpoint with the ``refresh_token`` grant, stores the new
tokens (encrypted) and schedules its next run; a failure marks the integration ``expired`` with the
reason and raises, so the retry policy applies. A provider answering ``invalid_grant`` means the
refresh token was revoked: the integration becomes ``revoked`` and the job does not retry (it cannot
help). A Redis lock per integration makes two refreshes of one integration never run at once; an open
circuit breaker on the provider's host defers the job instead of spending its retries.

``oauth.health_check`` runs every ``OAUTH_HEALTH_INTERVAL`` per integration: ``expired`` → a refresh at
the front of the queue; ``revoked`` → the owner is told once (an ``email.send`` job and an
``access_revoked`` webhook event, which endpoints subscribed to its older name ``integration.revoked``
also receive); ``error`` → logged. The health check never fails.

One chain per integration: only the jobs with the integration's stable ids (``oauth-refresh-<id>``,
``oauth-health-<id>``) repeat themselves. The same task enqueued by hand, or the on-demand health check of
the API, runs once; a refresh then reschedules the stable refresh job (the tokens changed), a health
check only makes sure the stable chain exists.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import requests
from redis import Redis

from jobs import keys
from jobs.crypto import cipher
from jobs.enqueue import JobRequest, enqueue
from jobs.handler_context import job_connection, job_settings
from jobs.integrations.store import (
    HEALTH_TASK,
    REFRESH_TASK,
    IntegrationStore,
    ensure_health,
    health_job_id,
    refresh_job_id,
    repeat_current_job,
    schedule_refresh,
)
from jobs.outbound.pinned_http import checked_post
from jobs.outbound.url_policy import check_url, host_of
from jobs.registry import task
from jobs.resilience.breaker import Breaker
from jobs.retry import NO_RETRY, RetryPolicy
from jobs.settings import Settings
from jobs.webhooks.delivery import publish_event

log = logging.getLogger("taskyard.oauth")
# The design notes' token refresh queue: ``attempts: 3, backoff: { type: 'exponential', delay: 5000 }``,
# i.e. 3 attempts in all (2 retries), 5 s then 10 s apart (Bull's exponential backoff has no jitter).
REFRESH_RETRY = RetryPolicy(max_retries=2, backoff="exponential", delay=5)
REVOKED_EVENT = "access_revoked"  # the notes' name; subscribers of "integration.revoked" get it too
DEFAULT_EXPIRES_IN = 3600  # seconds, when a provider's answer has no expires_in


class RefreshFailed(RuntimeError):
    """The token endpoint did not give us new tokens (retryable)."""


def _token_request(
    settings: Settings, store: IntegrationStore, integration: Any, post: Callable[..., Any]
) -> Any:
    check_url(integration.token_url, settings.webhooks.allow_private_targets)
    data = {
        "grant_type": "refresh_token",
        "refresh_token": store.secret(integration.refresh_token_enc),
        "client_id": integration.client_id,
        "client_secret": store.secret(integration.client_secret_enc),
    }
    return post(integration.token_url, data=data, headers={"Accept": "application/json"},
                timeout=settings.oauth.timeout, allow_redirects=False)  # fmt: skip


def run_refresh(
    connection: Redis,
    settings: Settings,
    integration_id: str,
    *,
    now: Callable[[], float] = time.time,
    post: Callable[..., Any] | None = None,
) -> dict[str, Any]:
    """Refresh one integration's tokens. ``now`` is the clock (tests control it); ``post`` defaults to
    :func:`jobs.outbound.pinned_http.checked_post` (resolve, check, connect to the checked address)."""
    post = post or checked_post(settings.webhooks.allow_private_targets)
    store = IntegrationStore(connection, cipher(settings))
    lock = connection.lock(keys.integration_lock(integration_id), timeout=settings.oauth.timeout + 30)
    if not lock.acquire(blocking=False):
        return {"integration_id": integration_id, "skipped": "another refresh of this integration is running"}
    try:
        integration = store.get(integration_id)
        if integration is None:
            return {"integration_id": integration_id, "skipped": "no such integration"}
        if integration.refresh_token_enc is None:
            store.update(integration, status="expired", status_reason="no refresh token", updated_at=now())
            raise RefreshFailed(f"integration {integration_id} has no refresh token")
        breaker = Breaker(connection, settings, host_of(integration.token_url), now)
        decision = breaker.allow()
        if not decision.allowed and decision.retry_at is not None:
            wait = decision.retry_at - now()
            if not repeat_current_job(wait, refresh_job_id(integration_id)):
                schedule_refresh(connection, settings, integration, now())
            return {"integration_id": integration_id, "deferred": "circuit breaker open", "seconds": wait}
        try:
            response = _token_request(settings, store, integration, post)
        except (requests.RequestException, ValueError) as error:
            breaker.failure()
            reason = f"token endpoint unreachable: {type(error).__name__}: {error}"[:500]
            store.update(integration, status="expired", status_reason=reason, updated_at=now())
            raise RefreshFailed(reason) from None
        body = _json(response)
        if response.status_code in (400, 401) and body.get("error") == "invalid_grant":
            breaker.success()
            reason = f"provider revoked the refresh token: {body.get('error_description') or 'invalid_grant'}"
            store.update(integration, status="revoked", status_reason=reason[:500], updated_at=now())
            return {"integration_id": integration_id, "status": "revoked"}
        if response.status_code != 200 or not body.get("access_token"):
            (breaker.failure if response.status_code >= 500 else breaker.success)()
            reason = f"token endpoint answered HTTP {response.status_code}: {body.get('error') or 'no access_token'}"
            store.update(integration, status="expired", status_reason=reason[:500], updated_at=now())
            raise RefreshFailed(reason)
        breaker.success()
        refreshed_at = now()
        new_refresh = body.get("refresh_token")
        updated = store.update(
            integration,
            access_token_enc=store.cipher.encrypt(str(body["access_token"])),
            refresh_token_enc=store.cipher.encrypt(str(new_refresh))
            if new_refresh
            else integration.refresh_token_enc,
            expires_at=refreshed_at + int(body.get("expires_in") or DEFAULT_EXPIRES_IN),
            status="active",
            status_reason=None,
            updated_at=refreshed_at,
            last_refreshed_at=refreshed_at,
            refreshes=integration.refreshes + 1,
            revoked_notified_at=None,
        )
        next_at = updated.expires_at - settings.oauth.refresh_lead
        if not repeat_current_job(next_at - refreshed_at, refresh_job_id(integration_id)):
            schedule_refresh(connection, settings, updated, refreshed_at)
        return {"integration_id": integration_id, "status": "active", "next_refresh_at": next_at}
    finally:
        lock.release()


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@task(
    REFRESH_TASK,
    retry=REFRESH_RETRY,
    timeout=120,
    description="Refresh an OAuth integration's tokens (refresh_token grant) and schedule the next refresh.",
)
def refresh(integration_id: str) -> dict[str, Any]:
    return run_refresh(job_connection(), job_settings(), integration_id)


def run_health_check(
    connection: Redis, settings: Settings, integration_id: str, now: Callable[[], float] = time.time
) -> dict[str, Any]:
    """Act on one integration's state; never raises (errors are logged and reported as ``error``)."""
    try:
        store = IntegrationStore(connection, cipher(settings))
        integration = store.get(integration_id)
        if integration is None:
            return {"integration_id": integration_id, "status": "gone"}
        status = integration.status
        if status == "active" and integration.expires_at <= now():
            status = "expired"
        if status == "expired":
            schedule_refresh(connection, settings, integration, now(), urgent=True)
            action = "refresh enqueued at the front of the queue"
        elif status == "revoked" and integration.revoked_notified_at is None:
            _notify_revoked(connection, settings, integration)
            store.update(integration, revoked_notified_at=now())
            action = "owner notified"
        elif status == "error":
            log.error("integration %s is in error: %s", integration_id, integration.status_reason)
            action = "logged"
        else:
            action = "none"
        return {"integration_id": integration_id, "status": status, "action": action}
    except Exception as error:
        log.exception("health check of integration %s failed", integration_id)
        return {
            "integration_id": integration_id,
            "status": "error",
            "error": f"{type(error).__name__}: {error}",
        }


def _notify_revoked(connection: Redis, settings: Settings, integration: Any) -> None:
    subject = f"Your {integration.provider} integration was disconnected"
    body = (f"The {integration.provider} integration {integration.id} of tenant {integration.tenant_id} "
            f"lost access: {integration.status_reason}. Reconnect it to resume syncing.")  # fmt: skip
    enqueue(connection, settings, JobRequest("email.send", kwargs={"to": integration.owner_email,
                                                                   "subject": subject, "body": body}))  # fmt: skip
    publish_event(connection, settings, REVOKED_EVENT, {
        "integration_id": integration.id, "tenant_id": integration.tenant_id,
        "provider": integration.provider, "reason": integration.status_reason,
    })  # fmt: skip


@task(HEALTH_TASK, retry=NO_RETRY, timeout=60, description="Check one OAuth integration; runs every 4 hours.")
def health_check(integration_id: str) -> dict[str, Any]:
    settings, connection = job_settings(), job_connection()
    result = run_health_check(connection, settings, integration_id)
    if result["status"] != "gone" and not repeat_current_job(
        settings.oauth.health_interval, health_job_id(integration_id)
    ):
        integration = IntegrationStore(connection, cipher(settings)).get(integration_id)
        if integration is not None:
            ensure_health(connection, settings, integration)  # a one-off check: keep one stable chain
    return result
