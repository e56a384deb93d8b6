"""OAuth integration state changes shared by the REST API and the pages: register, remove, refresh
now (queued, or in the request), check health now.

A refresh in the request (``?wait=true``, the design notes' synchronous API) is bounded by
``OAUTH_TIMEOUT`` and never waits for the per-integration lock: a refresh already running is a 409, an
open provider breaker a 503 with ``Retry-After``. A health check now starts no chain of its own (the
integration keeps its one stable ``oauth-health-<id>`` chain).
"""

from __future__ import annotations

import time
from typing import Any

from redis import Redis
from rq.job import Job

from jobs.builtin.oauth import RefreshFailed, run_health_check, run_refresh
from jobs.integrations.store import Integration, schedule_health, schedule_refresh, unschedule
from jobs.outbound.url_policy import TargetRefused, check_url
from jobs.settings import Settings
from web.errors import ApiError
from web.read_model.integrations import integration as find_integration
from web.read_model.integrations import store


def create_integration(connection: Redis, settings: Settings, fields: dict[str, Any]) -> Integration:
    """Store a validated registration (``fields``: tenant, provider, client and tokens) and schedule its
    token refresh and health check; a 400 when ``token_url`` is refused by the outbound URL policy."""
    try:
        check_url(fields["token_url"], settings.webhooks.allow_private_targets)
    except TargetRefused as error:
        raise ApiError(400, "target_refused", f"token_url: {error}") from None
    now = time.time()
    created = store(connection, settings).create(fields, now)
    schedule_refresh(connection, settings, created, now)
    schedule_health(connection, settings, created)
    return created


def delete_integration(connection: Redis, settings: Settings, integration: Integration) -> None:
    """Remove the integration and its pending jobs (a running one finds it gone and stops)."""
    unschedule(connection, integration.id)
    store(connection, settings).delete(integration.id)


def queue_refresh(connection: Redis, settings: Settings, integration: Integration) -> Job:
    """The refresh job, now and at the front of the queue; a 409 while a refresh is running."""
    job = schedule_refresh(connection, settings, integration, time.time(), urgent=True)
    if job is None:
        raise ApiError(409, "refresh_running", f"a refresh of {integration.id} is running now")
    return job


def refresh_and_wait(connection: Redis, settings: Settings, integration: Integration) -> Integration:
    """Refresh in this request; the updated integration (502 when the provider refuses, 409 while a
    refresh is running, 503 while the provider's circuit breaker is open)."""
    try:
        result = run_refresh(connection, settings, integration.id)
    except RefreshFailed as error:
        raise ApiError(502, "refresh_failed", str(error)) from None
    if "skipped" in result:
        raise ApiError(409, "refresh_running", f"a refresh of {integration.id} is running now")
    if "deferred" in result:
        wait = max(1, round(float(result.get("seconds") or 1)))
        raise ApiError(503, "provider_unavailable", f"the provider's circuit breaker is open; retry in {wait} s",
                       headers={"Retry-After": str(wait)})  # fmt: skip
    return find_integration(connection, settings, integration.id)


def health_check_now(connection: Redis, settings: Settings, integration: Integration) -> dict[str, Any]:
    """Run one health check in this request and answer its result (status, action taken, error)."""
    return run_health_check(connection, settings, integration.id)
