"""/api/v1/webhooks and /api/v1/events: endpoints, event fan-out, deliveries and their audit trail.

The request/response models and the OpenAPI description are in :mod:`web.api.webhook_schemas`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from jobs.crypto import EncryptionUnavailable, cipher
from jobs.enqueue import JobRequest, enqueue
from jobs.outbound.url_policy import TargetRefused, check_url
from jobs.webhooks import delivery as webhook_delivery
from jobs.webhooks import standard_signatures as standard_webhooks
from jobs.webhooks.store import STATUSES, Delivery, WebhookStore
from web.api.body import parse_body
from web.api.jobs import accepted
from web.api.times import with_iso
from web.api.webhook_schemas import EVENT_TYPE, MAX_PER_PAGE, EndpointCreate, EndpointUpdate, EventCreate
from web.api.webhook_schemas import OPENAPI_MODELS as OPENAPI_MODELS  # re-exported: web.api.openapi
from web.api.webhook_schemas import openapi_paths as openapi_paths
from web.errors import ApiError
from web.extension import state

ID_PATTERN = re.compile(r"^[a-z]{2,4}_[0-9a-f]{16}$")


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


def get_delivery(delivery_id: str) -> Response:
    delivery = _delivery(delivery_id)
    log = WebhookStore(state().connection).attempt_log(delivery.id)
    return jsonify({**delivery_view(delivery), "attempt_log": log})


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


def retry_all() -> Response:
    ext = state()
    job = enqueue(ext.connection, ext.settings, JobRequest("webhooks.retry_sweep", at_front=True)).job
    return accepted(job)


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
