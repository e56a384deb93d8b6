"""/api/v1/webhooks and /api/v1/events: endpoints, event fan-out, deliveries and their audit trail."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from pydantic import BaseModel, Field, JsonValue

from jobs import webhook_delivery
from jobs.crypto import EncryptionUnavailable, cipher
from jobs.enqueue import JobRequest, enqueue
from jobs.targets import TargetRefused, check_url
from jobs.webhook_store import STATUSES, Delivery, WebhookStore
from web.api.body import parse_body
from web.api.openapi import (
    READ_ERRORS,
    WRITE_ERRORS,
    errors,
    json_response,
    list_of,
    operation,
    path_param,
    query_param,
    ref,
)
from web.api.schemas import Strict
from web.errors import ApiError
from web.extension import state

EVENT_TYPE = r"^[A-Za-z0-9_.:-]{1,100}$"
ID_PATTERN = re.compile(r"^[a-z]{2,4}_[0-9a-f]{16}$")
MAX_PER_PAGE = 200


class EndpointCreate(Strict):
    """POST /api/v1/webhooks/endpoints. ``events``: event types, or ``["*"]`` for all."""

    url: str = Field(min_length=8, max_length=2048)
    secret: str = Field(
        min_length=16, max_length=256, description="HMAC key; stored encrypted, never returned"
    )
    events: list[str] = Field(min_length=1, max_length=100)
    active: bool = True
    description: str = Field(default="", max_length=500)


class EndpointUpdate(Strict):
    """PATCH /api/v1/webhooks/endpoints/<id>: any subset of the fields."""

    url: str | None = Field(default=None, min_length=8, max_length=2048)
    secret: str | None = Field(default=None, min_length=16, max_length=256)
    events: list[str] | None = Field(default=None, min_length=1, max_length=100)
    active: bool | None = None
    description: str | None = Field(default=None, max_length=500)


class EndpointView(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    description: str
    created_at: str
    updated_at: str


class EventCreate(Strict):
    """POST /api/v1/events."""

    type: str = Field(pattern=EVENT_TYPE)
    payload: JsonValue = None


class DeliveryView(BaseModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    url: str
    status: str
    attempts: int
    created_at: float
    updated_at: float
    next_attempt_at: float | None
    job_id: str | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: float | None
    replays: int
    payload: Any = None
    attempt_log: list[dict[str, Any]] | None = None


class EventAccepted(BaseModel):
    event_id: str
    type: str
    deliveries: list[DeliveryView]


class SweepQueued(BaseModel):
    job_id: str
    url: str


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


def create_endpoint() -> Response:
    body = parse_body(EndpointCreate)
    now = datetime.now(UTC).isoformat()
    store = WebhookStore(state().connection)
    endpoint = store.create_endpoint(_check_target(body.url), body.secret, _check_events(body.events),
                                     body.active, body.description, _encrypting(), now)  # fmt: skip
    response = jsonify(endpoint.public())
    response.status_code = 201
    response.headers["Location"] = url_for("api_v1.get_endpoint", endpoint_id=endpoint.id)
    return response


def list_endpoints() -> Response:
    return jsonify({"items": [e.public() for e in WebhookStore(state().connection).endpoints()]})


def get_endpoint(endpoint_id: str) -> Response:
    return jsonify(_endpoint(endpoint_id).public())


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


def delete_endpoint(endpoint_id: str) -> Response:
    endpoint = _endpoint(endpoint_id)
    WebhookStore(state().connection).delete_endpoint(endpoint.id)
    return jsonify(endpoint.public())


def publish() -> Response:
    body = parse_body(EventCreate)
    ext = state()
    event_id, deliveries = webhook_delivery.publish_event(
        ext.connection, ext.settings, body.type, body.payload
    )
    response = jsonify(
        {"event_id": event_id, "type": body.type, "deliveries": [d.public() for d in deliveries]}
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
    return jsonify({"items": [d.public() for d in items], "total": total, "page": page, "per_page": per_page})


def _delivery(delivery_id: str) -> Delivery:
    found = (
        WebhookStore(state().connection).get_delivery(delivery_id) if ID_PATTERN.match(delivery_id) else None
    )
    if found is None:
        raise ApiError(404, "delivery_not_found", f"no webhook delivery {delivery_id!r}")
    return found


def get_delivery(delivery_id: str) -> Response:
    delivery = _delivery(delivery_id)
    log = WebhookStore(state().connection).attempt_log(delivery.id)
    return jsonify({**delivery.public(), "attempt_log": log})


def retry_delivery(delivery_id: str) -> Response:
    ext = state()
    _delivery(delivery_id)
    try:
        replayed = webhook_delivery.replay(ext.connection, ext.settings, delivery_id)
    except webhook_delivery.NotReplayable as error:
        raise ApiError(409, "not_replayable", str(error)) from None
    if replayed is None:
        raise ApiError(404, "delivery_not_found", f"no webhook delivery {delivery_id!r}")
    response = jsonify(replayed.public())
    response.status_code = 202
    return response


def retry_all() -> Response:
    ext = state()
    job = enqueue(ext.connection, ext.settings, JobRequest("webhooks.retry_sweep", at_front=True)).job
    response = jsonify({"job_id": job.id, "url": url_for("api_v1.get_job", job_id=job.id)})
    response.status_code = 202
    return response


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/webhooks/endpoints", "create_endpoint", create_endpoint, methods=["POST"])
    bp.add_url_rule("/webhooks/endpoints", "list_endpoints", list_endpoints, methods=["GET"])
    bp.add_url_rule("/webhooks/endpoints/<endpoint_id>", "get_endpoint", get_endpoint, methods=["GET"])
    bp.add_url_rule(
        "/webhooks/endpoints/<endpoint_id>", "update_endpoint", update_endpoint, methods=["PATCH"]
    )
    bp.add_url_rule(
        "/webhooks/endpoints/<endpoint_id>", "delete_endpoint", delete_endpoint, methods=["DELETE"]
    )
    bp.add_url_rule("/events", "publish_event", publish, methods=["POST"])
    bp.add_url_rule("/webhooks/deliveries", "list_deliveries", list_deliveries, methods=["GET"])
    bp.add_url_rule("/webhooks/deliveries/<delivery_id>", "get_delivery", get_delivery, methods=["GET"])
    bp.add_url_rule(
        "/webhooks/deliveries/<delivery_id>/retry", "retry_delivery", retry_delivery, methods=["POST"]
    )
    bp.add_url_rule("/webhooks/retry-all", "retry_all_webhooks", retry_all, methods=["POST"])


OPENAPI_MODELS = (
    EndpointCreate,
    EndpointUpdate,
    EndpointView,
    EventCreate,
    DeliveryView,
    EventAccepted,
    SweepQueued,
)


def openapi_paths() -> dict[str, Any]:
    endpoint = [path_param("endpoint_id")]
    delivery = [path_param("delivery_id")]
    page = [
        query_param("endpoint", {"type": "string"}, "Only this endpoint's deliveries"),
        query_param("status", {"type": "string", "enum": [*STATUSES, ""]}, "Only this status (empty: any)"),
        query_param("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        query_param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
    ]
    view = json_response(ref(EndpointView), "The endpoint (never its secret)")
    return {
        "/api/v1/webhooks/endpoints": {
            "get": operation(
                "Webhook endpoints",
                {"200": json_response(list_of(EndpointView), "Endpoints"), **errors(*READ_ERRORS)},
            ),
            "post": operation(
                "Register a webhook endpoint", {"201": view, **errors(*WRITE_ERRORS, 409)}, EndpointCreate
            ),
        },
        "/api/v1/webhooks/endpoints/{endpoint_id}": {
            "get": operation("One endpoint", {"200": view, **errors(*READ_ERRORS, 404)}, parameters=endpoint),
            "patch": operation(
                "Change an endpoint",
                {"200": view, **errors(*WRITE_ERRORS, 404, 409)},
                EndpointUpdate,
                parameters=endpoint,
            ),
            "delete": operation(
                "Remove an endpoint (its deliveries stay until log cleanup)",
                {"200": view, **errors(401, 403, 404, 503)},
                parameters=endpoint,
            ),
        },
        "/api/v1/events": {
            "post": operation(
                "Publish an event: one delivery job per subscribed active endpoint",
                {"202": json_response(ref(EventAccepted), "Accepted"), **errors(*WRITE_ERRORS)},
                EventCreate,
            ),
        },
        "/api/v1/webhooks/deliveries": {
            "get": operation(
                "Deliveries, newest first",
                {
                    "200": json_response(list_of(DeliveryView, paginated=True), "Deliveries"),
                    **errors(400, *READ_ERRORS),
                },
                parameters=page,
            ),
        },
        "/api/v1/webhooks/deliveries/{delivery_id}": {
            "get": operation(
                "A delivery and its attempt log (time, status code, latency, error)",
                {"200": json_response(ref(DeliveryView), "The delivery"), **errors(*READ_ERRORS, 404)},
                parameters=delivery,
            ),
        },
        "/api/v1/webhooks/deliveries/{delivery_id}/retry": {
            "post": operation(
                "Replay a failed delivery (dead letter): a fresh retry cycle",
                {"202": json_response(ref(DeliveryView), "Replaying"), **errors(401, 403, 404, 409, 503)},
                parameters=delivery,
            ),
        },
        "/api/v1/webhooks/retry-all": {
            "post": operation(
                "Run the retry sweep now (re-enqueue due deliveries whose job is lost)",
                {"202": json_response(ref(SweepQueued), "Sweep enqueued"), **errors(401, 403, 503)},
            ),
        },
    }
