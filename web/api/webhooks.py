"""/api/v1/webhooks and /api/v1/events: endpoints, event fan-out, deliveries and their audit trail.

The request/response models are in :mod:`web.api.webhook_schemas`."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from web.api.body import parse_body
from web.api.jobs import accepted
from web.api.openapi import READ_ERRORS, WRITE_ERRORS, query_param
from web.api.routes import ListOf, Routes
from web.api.webhook_schemas import (
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
from web.commands import webhooks as commands
from web.errors import ApiError
from web.extension import state
from web.read_model import webhooks as read
from web.read_model.webhooks import ID_PATTERN, STATUSES, Delivery

routes = Routes("/api/v1")
SHOWN = "The endpoint (never its secret)"
DELIVERY_FILTERS = (
    query_param("endpoint", {"type": "string"}, "Only this endpoint's deliveries"),
    query_param("status", {"type": "string", "enum": [*STATUSES, ""]}, "Only this status (empty: any)"),
    query_param("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}),
    query_param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
)


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    """A delivery as the API shows it: its times in ISO 8601 UTC (the store keeps epoch seconds); the
    attempt log only where asked for (one delivery's GET)."""
    return DeliveryView.of(delivery, exclude={"attempt_log"})


@routes.post(
    "/webhooks/endpoints",
    "Register a webhook endpoint",
    {201: (EndpointCreated, "Registered")},
    errors=(*WRITE_ERRORS, 409),
    body=EndpointCreate,
)
def create_endpoint() -> Response:
    body = parse_body(EndpointCreate)
    ext = state()
    endpoint, generated = commands.create_endpoint(ext.connection, ext.settings, body)
    shown = (
        EndpointView.of(endpoint) if generated is None else {**EndpointView.of(endpoint), "secret": generated}
    )
    response = jsonify(shown)
    response.status_code = 201
    response.headers["Location"] = url_for("api_v1.get_endpoint", endpoint_id=endpoint.id)
    return response


@routes.get(
    "/webhooks/endpoints", "Webhook endpoints", {200: (ListOf(EndpointView), "Endpoints")}, errors=READ_ERRORS
)
def list_endpoints() -> Response:
    return jsonify({"items": [EndpointView.of(e) for e in read.endpoints(state().connection)]})


@routes.get(
    "/webhooks/endpoints/<endpoint_id>",
    "One endpoint",
    {200: (EndpointView, SHOWN)},
    errors=(*READ_ERRORS, 404),
)
def get_endpoint(endpoint_id: str) -> Response:
    return jsonify(EndpointView.of(read.endpoint(state().connection, endpoint_id)))


@routes.patch(
    "/webhooks/endpoints/<endpoint_id>",
    "Change an endpoint",
    {200: (EndpointView, SHOWN)},
    errors=(*WRITE_ERRORS, 404, 409),
    body=EndpointUpdate,
)
def update_endpoint(endpoint_id: str) -> Response:
    ext = state()
    endpoint = read.endpoint(ext.connection, endpoint_id)
    body = parse_body(EndpointUpdate)
    return jsonify(EndpointView.of(commands.update_endpoint(ext.connection, ext.settings, endpoint, body)))


@routes.delete(
    "/webhooks/endpoints/<endpoint_id>",
    "Remove an endpoint (its deliveries stay until log cleanup)",
    {200: (EndpointView, SHOWN)},
    errors=(401, 403, 404, 503),
)
def delete_endpoint(endpoint_id: str) -> Response:
    connection = state().connection
    endpoint = read.endpoint(connection, endpoint_id)
    commands.delete_endpoint(connection, endpoint)
    return jsonify(EndpointView.of(endpoint))


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
    event_id, deliveries = commands.publish_event(ext.connection, ext.settings, body.type, body.payload)
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
    items, total = read.deliveries(state().connection, endpoint, status, page, per_page)
    return jsonify(
        {"items": [delivery_view(d) for d in items], "total": total, "page": page, "per_page": per_page}
    )


@routes.get(
    "/webhooks/deliveries/<delivery_id>",
    "A delivery and its attempt log (time, status code, latency, error)",
    {200: (DeliveryView, "The delivery")},
    errors=(*READ_ERRORS, 404),
)
def get_delivery(delivery_id: str) -> Response:
    connection = state().connection
    delivery = read.delivery(connection, delivery_id)
    return jsonify({**delivery_view(delivery), "attempt_log": read.attempt_log(connection, delivery.id)})


@routes.post(
    "/webhooks/deliveries/<delivery_id>/retry",
    "Replay a failed delivery (dead letter): a fresh retry cycle",
    {202: (DeliveryView, "Replaying")},
    errors=(401, 403, 404, 409, 503),
)
def retry_delivery(delivery_id: str) -> Response:
    ext = state()
    response = jsonify(delivery_view(commands.replay_delivery(ext.connection, ext.settings, delivery_id)))
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
    return accepted(commands.retry_all(ext.connection, ext.settings))
