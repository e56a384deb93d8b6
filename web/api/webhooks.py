"""/api/v1/webhooks and /api/v1/events: endpoints, event fan-out, deliveries and their audit trail.

The request/response models are in :mod:`web.api.webhook_schemas`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request, url_for

from jobs.crypto import EncryptionUnavailable, cipher
from jobs.enqueue import JobRequest, enqueue
from jobs.outbound.url_policy import TargetRefused, check_url
from jobs.webhooks import delivery as webhook_delivery
from jobs.webhooks import standard_signatures as standard_webhooks
from jobs.webhooks.store import STATUSES, Delivery, WebhookStore
from web.api.body import parse_body
from web.api.jobs import accepted
from web.api.openapi import READ_ERRORS, WRITE_ERRORS, query_param
from web.api.routes import ListOf, Routes
from web.api.times import with_iso
from web.api.webhook_schemas import (
    EVENT_TYPE,
    MAX_PER_PAGE,
    DeliveryView,
    EndpointCreate,
    EndpointCreated,
    EndpointUpdate,
    EndpointView,
    EventAccepted,
    EventCreate,
    SweepQueued,
)
from web.errors import ApiError
from web.extension import state

ID_PATTERN = re.compile(r"^[a-z]{2,4}_[0-9a-f]{16}$")
routes = Routes("/api/v1")
SHOWN = "The endpoint (never its secret)"
DELIVERY_FILTERS = (
    query_param("endpoint", {"type": "string"}, "Only this endpoint's deliveries"),
    query_param("status", {"type": "string", "enum": [*STATUSES, ""]}, "Only this status (empty: any)"),
    query_param("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}),
    query_param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
)


DELIVERY_TIMES = ("created_at", "updated_at", "next_attempt_at", "delivered_at")


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    """A delivery as the API shows it: its times in ISO 8601 UTC (the store keeps epoch seconds)."""
    return with_iso(delivery.public(), *DELIVERY_TIMES)


def _check_events(events: list[str]) -> list[str]:
    for event in events:
        if event != "*" and not re.match(EVENT_TYPE, event):
            raise ApiError(400, "validation_error", f"events: {event!r} is not an event type (or '*')")
    return events


def _check_target(url: str) -> str:
    try:
        return check_url(url, state().settings.webhook_allow_private_targets)
    except TargetRefused as error:
        raise ApiError(400, "target_refused", f"url: {error}") from None


def _encrypting() -> Any:
    try:
        return cipher(state().settings)
    except EncryptionUnavailable as error:
        raise ApiError(409, "encryption_unavailable", str(error)) from None


def _endpoint(endpoint_id: str) -> Any:
    endpoint = (
        WebhookStore(state().connection).get_endpoint(endpoint_id) if ID_PATTERN.match(endpoint_id) else None
    )
    if endpoint is None:
        raise ApiError(404, "endpoint_not_found", f"no webhook endpoint {endpoint_id!r}")
    return endpoint


@routes.post(
    "/webhooks/endpoints",
    "Register a webhook endpoint",
    {201: (EndpointCreated, "Registered")},
    errors=(*WRITE_ERRORS, 409),
    body=EndpointCreate,
)
def create_endpoint() -> Response:
    body = parse_body(EndpointCreate)
    now = datetime.now(UTC).isoformat()
    store = WebhookStore(state().connection)
    secret = body.secret or standard_webhooks.generate_secret()
    endpoint = store.create_endpoint(_check_target(body.url), secret, _check_events(body.events),
                                     body.active, body.description, _encrypting(), now)  # fmt: skip
    shown = endpoint.public() if body.secret else {**endpoint.public(), "secret": secret}
    response = jsonify(shown)
    response.status_code = 201
    response.headers["Location"] = url_for("api_v1.get_endpoint", endpoint_id=endpoint.id)
    return response


@routes.get(
    "/webhooks/endpoints", "Webhook endpoints", {200: (ListOf(EndpointView), "Endpoints")}, errors=READ_ERRORS
)
def list_endpoints() -> Response:
    return jsonify({"items": [e.public() for e in WebhookStore(state().connection).endpoints()]})


@routes.get(
    "/webhooks/endpoints/<endpoint_id>",
    "One endpoint",
    {200: (EndpointView, SHOWN)},
    errors=(*READ_ERRORS, 404),
)
def get_endpoint(endpoint_id: str) -> Response:
    return jsonify(_endpoint(endpoint_id).public())


@routes.patch(
    "/webhooks/endpoints/<endpoint_id>",
    "Change an endpoint",
    {200: (EndpointView, SHOWN)},
    errors=(*WRITE_ERRORS, 404, 409),
    body=EndpointUpdate,
)
def update_endpoint(endpoint_id: str) -> Response:
    from dataclasses import replace

    endpoint = _endpoint(endpoint_id)
    body = parse_body(EndpointUpdate)
    changes: dict[str, Any] = {"updated_at": datetime.now(UTC).isoformat()}
    if body.url is not None:
        changes["url"] = _check_target(body.url)
    if body.secret is not None:
        changes["secret_encrypted"] = _encrypting().encrypt(body.secret)
    if body.events is not None:
        changes["events"] = sorted(set(_check_events(body.events)))
    if body.active is not None:
        changes["active"] = body.active
    if body.description is not None:
        changes["description"] = body.description
    updated = WebhookStore(state().connection).save_endpoint(replace(endpoint, **changes))
    return jsonify(updated.public())


@routes.delete(
    "/webhooks/endpoints/<endpoint_id>",
    "Remove an endpoint (its deliveries stay until log cleanup)",
    {200: (EndpointView, SHOWN)},
    errors=(401, 403, 404, 503),
)
def delete_endpoint(endpoint_id: str) -> Response:
    endpoint = _endpoint(endpoint_id)
    WebhookStore(state().connection).delete_endpoint(endpoint.id)
    return jsonify(endpoint.public())


@routes.post(
    "/events",
    "Publish an event: one delivery job per subscribed active endpoint",
    {202: (EventAccepted, "Accepted")},
    errors=WRITE_ERRORS,
    body=EventCreate,
    name="publish_event",
)
def publish() -> Response:
    body = parse_body(EventCreate)
    ext = state()
    event_id, deliveries = webhook_delivery.publish_event(
        ext.connection, ext.settings, body.type, body.payload
    )
    response = jsonify(
        {"event_id": event_id, "type": body.type, "deliveries": [delivery_view(d) for d in deliveries]}
    )
    response.status_code = 202
    return response


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, "validation_error", f"{name}: expected a whole number from {low} to {high}")
    return int(raw)


@routes.get(
    "/webhooks/deliveries",
    "Deliveries, newest first",
    {200: (ListOf(DeliveryView, paginated=True), "Deliveries")},
    errors=(400, *READ_ERRORS),
    parameters=DELIVERY_FILTERS,
)
def list_deliveries() -> Response:
    endpoint = request.args.get("endpoint") or None
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(400, "validation_error", f"status: expected one of {', '.join(STATUSES)}")
    if endpoint is not None and not ID_PATTERN.match(endpoint):
        raise ApiError(400, "validation_error", "endpoint: not an endpoint id")
    page = _int_arg("page", 1, 1, 1_000_000)
    per_page = _int_arg("per_page", 50, 1, MAX_PER_PAGE)
    items, total = WebhookStore(state().connection).list_deliveries(endpoint, status, page, per_page)
    return jsonify(
        {"items": [delivery_view(d) for d in items], "total": total, "page": page, "per_page": per_page}
    )


def _delivery(delivery_id: str) -> Delivery:
    found = (
        WebhookStore(state().connection).get_delivery(delivery_id) if ID_PATTERN.match(delivery_id) else None
    )
    if found is None:
        raise ApiError(404, "delivery_not_found", f"no webhook delivery {delivery_id!r}")
    return found


@routes.get(
    "/webhooks/deliveries/<delivery_id>",
    "A delivery and its attempt log (time, status code, latency, error)",
    {200: (DeliveryView, "The delivery")},
    errors=(*READ_ERRORS, 404),
)
def get_delivery(delivery_id: str) -> Response:
    delivery = _delivery(delivery_id)
    log = WebhookStore(state().connection).attempt_log(delivery.id)
    return jsonify({**delivery_view(delivery), "attempt_log": log})


@routes.post(
    "/webhooks/deliveries/<delivery_id>/retry",
    "Replay a failed delivery (dead letter): a fresh retry cycle",
    {202: (DeliveryView, "Replaying")},
    errors=(401, 403, 404, 409, 503),
)
def retry_delivery(delivery_id: str) -> Response:
    ext = state()
    _delivery(delivery_id)
    try:
        replayed = webhook_delivery.replay(ext.connection, ext.settings, delivery_id)
    except webhook_delivery.NotReplayable as error:
        raise ApiError(409, "not_replayable", str(error)) from None
    if replayed is None:
        raise ApiError(404, "delivery_not_found", f"no webhook delivery {delivery_id!r}")
    response = jsonify(delivery_view(replayed))
    response.status_code = 202
    return response


@routes.post(
    "/webhooks/retry-all",
    "Run the retry sweep now (re-enqueue due deliveries whose job is lost)",
    {202: (SweepQueued, "Sweep enqueued")},
    errors=(401, 403, 503),
    name="retry_all_webhooks",
)
def retry_all() -> Response:
    ext = state()
    job = enqueue(ext.connection, ext.settings, JobRequest("webhooks.retry_sweep", at_front=True)).job
    return accepted(job)
