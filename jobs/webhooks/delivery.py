"""Sending webhooks: signing, publishing an event to its subscribers, one delivery attempt, replay.

Signature (document for receivers): each POST carries

- ``X-Taskyard-Event``: the event type; ``X-Taskyard-Delivery``: the delivery id (dedupe on it);
- ``X-Taskyard-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Taskyard-Signature``: ``sha256=`` + hex HMAC-SHA256 with the endpoint's secret over
  ``timestamp + "." + raw body``. Receivers recompute it, compare in constant time and reject
  timestamps older than a few minutes (replay protection).
- ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``: the same attempt signed the Standard
  Webhooks way, which the ``standardwebhooks`` / ``svix`` libraries verify (:mod:`jobs.webhooks.standard_signatures`).

Retries: each attempt is its own RQ job. A failed attempt schedules the next job after
``WEBHOOK_RETRY_SCHEDULE[n]`` seconds through :func:`jobs.enqueue.enqueue` (delayed jobs never start
early), so the delivery record always names the job that owns its next attempt and the retry sweep
can tell a stranded delivery from a scheduled one. Deferrals (open breaker, rate limit) reschedule
the same attempt without counting it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
from redis import Redis

from jobs.crypto import cipher
from jobs.enqueue import JobRequest, enqueue
from jobs.outbound.pinned_http import checked_post
from jobs.outbound.url_policy import TargetRefused, check_url, host_of
from jobs.resilience.breaker import Breaker
from jobs.resilience.rate_limit import RateLimiter
from jobs.settings import Settings
from jobs.webhooks import metrics as webhook_metrics
from jobs.webhooks import standard_signatures as standard_webhooks
from jobs.webhooks.store import Delivery, WebhookStore, new_id
from jobs.worker.error_summary import SUMMARY_CHARS

DELIVER_TASK = "webhooks.deliver"
USER_AGENT = "Taskyard-Webhooks/1"
LOCK_SLACK = 30.0  # seconds a delivery lock outlives the HTTP timeout (a crashed worker frees it then)

Post = Callable[..., requests.Response]


class DeliveryFailed(RuntimeError):
    """The delivery used up its retries; it is now ``failed`` (the dead-letter list)."""


class NotReplayable(ValueError):
    """Only a permanently failed delivery can be replayed."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``f"{timestamp}." + body``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def schedule_attempt(
    connection: Redis,
    settings: Settings,
    delivery: Delivery,
    delay: float,
    store: WebhookStore,
    **changes: Any,
) -> Delivery:
    """Record a new owning job for ``delivery``'s next attempt, then enqueue it ``delay`` seconds out."""
    job_id = f"webhook-{delivery.id}-{secrets.token_hex(4)}"
    updated = store.save_delivery(delivery, job_id=job_id, next_attempt_at=time.time() + delay, **changes)
    request = JobRequest(DELIVER_TASK, kwargs={"delivery_id": delivery.id}, delay_seconds=delay or None,
                         job_id=job_id, meta={"delivery_id": delivery.id})  # fmt: skip
    enqueue(connection, settings, request)
    return updated


def publish_event(
    connection: Redis, settings: Settings, event_type: str, payload: Any, now: float | None = None
) -> tuple[str, list[Delivery]]:
    """Create one delivery per active endpoint subscribed to ``event_type`` and enqueue each.

    Returns the event id and the deliveries (none when nobody subscribes).
    """
    now = time.time() if now is None else now
    store = WebhookStore(connection)
    event_id = new_id("evt")
    created_at = datetime.fromtimestamp(now, UTC).isoformat()
    body = json.dumps({"id": event_id, "type": event_type, "created_at": created_at, "payload": payload})
    deliveries = []
    for endpoint in store.subscribers(event_type):
        delivery = store.create_delivery(endpoint, event_id, event_type, body, now)
        deliveries.append(schedule_attempt(connection, settings, delivery, 0, store))
    return event_id, deliveries


def replay(connection: Redis, settings: Settings, delivery_id: str) -> Delivery | None:
    """Start a failed delivery over (a fresh retry cycle). None when it doesn't exist;
    :class:`NotReplayable` unless it is ``failed``."""
    store = WebhookStore(connection)
    with store.lock(delivery_id, timeout=settings.webhooks.timeout + LOCK_SLACK, wait=5):
        delivery = store.get_delivery(delivery_id)
        if delivery is None:
            return None
        if delivery.status != "failed":
            raise NotReplayable(f"delivery {delivery_id} is {delivery.status}; only failed deliveries replay")
        return schedule_attempt(connection, settings, delivery, 0, store, status="pending",
                                schedule_offset=delivery.attempts, replays=delivery.replays + 1)  # fmt: skip


def _call(
    post: Post, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int | None, str | None]:
    try:
        response = post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except TargetRefused as refused:  # the connect-time check: nothing was sent
        return None, f"target refused: {refused}"[:SUMMARY_CHARS]
    except requests.RequestException as error:
        return None, f"{type(error).__name__}: {error}"[:SUMMARY_CHARS]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def attempt(
    connection: Redis,
    settings: Settings,
    delivery_id: str,
    job_id: str | None,
    *,
    post: Post | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Make one attempt of a delivery (the body of the ``webhooks.deliver`` job).

    Skips (returns ``{"skipped": why}``) a delivery that is gone, finished or owned by another job.
    Defers without counting an attempt while the host's breaker is open or the endpoint's rate limit
    is spent. Raises :class:`DeliveryFailed` after the last retry, so the RQ job fails too.
    ``post`` defaults to :func:`jobs.outbound.pinned_http.checked_post` (resolve, check, connect to the checked address).
    """
    post = post or checked_post(settings.webhooks.allow_private_targets)
    store = WebhookStore(connection)
    with store.lock(
        delivery_id, timeout=settings.webhooks.timeout + LOCK_SLACK, wait=settings.webhooks.timeout
    ):
        delivery = store.get_delivery(delivery_id)
        if delivery is None:
            return {"delivery_id": delivery_id, "skipped": "no such delivery"}
        if delivery.status in ("delivered", "failed"):
            return {"delivery_id": delivery_id, "skipped": f"already {delivery.status}"}
        if job_id is not None and delivery.job_id != job_id:
            return {"delivery_id": delivery_id, "skipped": f"superseded by job {delivery.job_id}"}
        endpoint = store.get_endpoint(delivery.endpoint_id)
        breaker = Breaker(connection, settings, host_of(delivery.url), clock)
        decision = breaker.allow()
        if not decision.allowed and decision.retry_at is not None:
            wait = max(0.0, decision.retry_at - clock())
            schedule_attempt(connection, settings, delivery, wait, store, last_error="circuit breaker open")
            return {"delivery_id": delivery_id, "deferred": "circuit breaker open", "seconds": wait}
        wait = RateLimiter(connection, clock).acquire(
            f"webhook:{delivery.endpoint_id}", settings.webhooks.rate_per_second
        )
        if wait > 0:
            schedule_attempt(connection, settings, delivery, wait, store)
            return {"delivery_id": delivery_id, "deferred": "rate limited", "seconds": wait}

        started_at = clock()
        started = time.perf_counter()
        status_code: int | None = None
        if endpoint is None or not endpoint.active:
            error: str | None = "endpoint deleted" if endpoint is None else "endpoint inactive"
        else:
            try:
                check_url(delivery.url, settings.webhooks.allow_private_targets)
                secret = cipher(settings).decrypt(endpoint.secret_encrypted)
            except TargetRefused as refused:
                error = f"target refused: {refused}"
            else:
                body = delivery.body.encode()
                timestamp = int(started_at)
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "X-Taskyard-Event": delivery.event_type,
                    "X-Taskyard-Delivery": delivery.id,
                    "X-Taskyard-Timestamp": str(timestamp),
                    "X-Taskyard-Signature": sign(secret, timestamp, body),
                    **standard_webhooks.headers(secret, delivery.id, timestamp, body),
                }
                status_code, error = _call(post, delivery.url, body, headers, settings.webhooks.timeout)
                host_down = status_code is None or status_code >= 500 or status_code in (408, 429)
                (breaker.failure if host_down else breaker.success)()
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        number = delivery.attempts + 1
        store.log_attempt(delivery.id, {
            "attempt": number, "at": datetime.fromtimestamp(started_at, UTC).isoformat(),
            "status_code": status_code, "latency_ms": latency_ms, "error": error, "job_id": job_id,
        })  # fmt: skip
        common = {
            "attempts": number,
            "last_status_code": status_code,
            "last_error": error,
            "updated_at": clock(),
        }
        if error is None:
            store.save_delivery(
                delivery, status="delivered", delivered_at=started_at, next_attempt_at=None, **common
            )
            webhook_metrics.count_attempt(connection, "delivered")
            return {
                "delivery_id": delivery.id,
                "status": "delivered",
                "attempts": number,
                "status_code": status_code,
            }
        retry_number = number - delivery.schedule_offset
        schedule = settings.webhooks.retry_schedule
        if retry_number <= len(schedule):
            delay = schedule[retry_number - 1]
            updated = schedule_attempt(
                connection, settings, delivery, delay, store, status="retrying", **common
            )
            webhook_metrics.count_attempt(connection, "retried")
            return {"delivery_id": delivery.id, "status": "retrying", "attempts": number, "error": error,
                    "next_attempt_at": updated.next_attempt_at}  # fmt: skip
        store.save_delivery(delivery, status="failed", next_attempt_at=None, **common)
        webhook_metrics.count_attempt(connection, "failed")
    raise DeliveryFailed(f"delivery {delivery.id} failed after {number} attempts: {error}")
