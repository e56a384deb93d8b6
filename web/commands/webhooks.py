"""Webhook state changes shared by the REST API and the pages: endpoints created, changed and removed,
events published, deliveries replayed.

Each endpoint change checks what the API promises: the target URL passes the outbound URL policy (a
400 ``target_refused``), event names are event types or ``*``, and a secret is stored encrypted (a 409
``encryption_unavailable`` when no key is configured). The pages' endpoint form calls the same
functions, so a form and a ``PATCH`` refuse the same things with the same words.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq.job import Job

from jobs.crypto import Cipher, EncryptionUnavailable, cipher
from jobs.enqueue import JobRequest, enqueue
from jobs.outbound.url_policy import TargetRefused, check_url
from jobs.settings import Settings
from jobs.webhooks import delivery as webhook_delivery
from jobs.webhooks import standard_signatures as standard_webhooks
from jobs.webhooks.store import Delivery, Endpoint, WebhookStore
from web.api.webhook_schemas import EVENT_TYPE, EndpointCreate, EndpointUpdate
from web.errors import ApiError
from web.read_model.webhooks import delivery as find_delivery


def _check_events(events: list[str]) -> list[str]:
    for event in events:
        if event != "*" and not re.match(EVENT_TYPE, event):
            raise ApiError(400, "validation_error", f"events: {event!r} is not an event type (or '*')")
    return events


def _check_target(settings: Settings, url: str) -> str:
    try:
        return check_url(url, settings.webhooks.allow_private_targets)
    except TargetRefused as error:
        raise ApiError(400, "target_refused", f"url: {error}") from None


def _encrypting(settings: Settings) -> Cipher:
    try:
        return cipher(settings)
    except EncryptionUnavailable as error:
        raise ApiError(409, "encryption_unavailable", str(error)) from None


def create_endpoint(
    connection: Redis, settings: Settings, body: EndpointCreate
) -> tuple[Endpoint, str | None]:
    """Register an endpoint; the secret too when Taskyard generated it (the caller shows it once)."""
    secret = body.secret or standard_webhooks.generate_secret()
    endpoint = WebhookStore(connection).create_endpoint(
        _check_target(settings, body.url), secret, _check_events(body.events), body.active,
        body.description, _encrypting(settings), datetime.now(UTC).isoformat(),
    )  # fmt: skip
    return endpoint, None if body.secret else secret


def update_endpoint(
    connection: Redis, settings: Settings, endpoint: Endpoint, body: EndpointUpdate
) -> Endpoint:
    """Change the fields ``body`` gives (None: leave as it is)."""
    changes: dict[str, Any] = {"updated_at": datetime.now(UTC).isoformat()}
    if body.url is not None:
        changes["url"] = _check_target(settings, body.url)
    if body.secret is not None:
        changes["secret_encrypted"] = _encrypting(settings).encrypt(body.secret)
    if body.events is not None:
        changes["events"] = sorted(set(_check_events(body.events)))
    if body.active is not None:
        changes["active"] = body.active
    if body.description is not None:
        changes["description"] = body.description
    return WebhookStore(connection).save_endpoint(replace(endpoint, **changes))


def toggle_endpoint(connection: Redis, endpoint: Endpoint) -> Endpoint:
    """Disable an active endpoint, enable a disabled one."""
    changed = replace(endpoint, active=not endpoint.active, updated_at=datetime.now(UTC).isoformat())
    return WebhookStore(connection).save_endpoint(changed)


def delete_endpoint(connection: Redis, endpoint: Endpoint) -> None:
    """Remove the endpoint; its deliveries stay (their audit trail) until log cleanup."""
    WebhookStore(connection).delete_endpoint(endpoint.id)


def publish_event(
    connection: Redis, settings: Settings, event_type: str, payload: Any
) -> tuple[str, list[Delivery]]:
    """Fan an event out to its subscribers: the event id and one pending delivery per endpoint."""
    return webhook_delivery.publish_event(connection, settings, event_type, payload)


def replay_delivery(connection: Redis, settings: Settings, delivery_id: str) -> Delivery:
    """Start a failed delivery over: a 404 when there is none, a 409 unless it is ``failed``."""
    find_delivery(connection, delivery_id)
    try:
        replayed = webhook_delivery.replay(connection, settings, delivery_id)
    except webhook_delivery.NotReplayable as error:
        raise ApiError(409, "not_replayable", str(error)) from None
    if replayed is None:
        raise ApiError(404, "delivery_not_found", f"no webhook delivery {delivery_id!r}")
    return replayed


def discard_delivery(connection: Redis, delivery: Delivery) -> None:
    """Delete a delivery and its attempt log."""
    WebhookStore(connection).delete_delivery(delivery)


def retry_all(connection: Redis, settings: Settings) -> Job:
    """Queue the retry sweep at the front: every delivery whose next attempt is due goes now."""
    return enqueue(connection, settings, JobRequest("webhooks.retry_sweep", at_front=True)).job
