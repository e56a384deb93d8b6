"""Webhook endpoints created, edited, disabled and deleted from the browser; one delivery's page with
its payload and every attempt, and replay; integration refresh now / health check now / delete and circuit-breaker reset.

The buttons call the REST API's own view functions where those take no body (delete an endpoint,
replay a delivery, refresh or delete an integration, reset a breaker), so a button and an endpoint
do the same thing; the endpoint form validates with the API's own models and target check.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from jobs.webhooks import standard_signatures as standard_webhooks
from jobs.webhooks.store import WebhookStore
from web.api import breakers as breakers_api
from web.api import integration_actions
from web.api import integrations as integrations_api
from web.api import webhooks as webhooks_api
from web.api.webhook_schemas import EndpointCreate, EndpointUpdate
from web.errors import ApiError, validation_details
from web.extension import state
from web.pages import render
from web.read_model.job_detail import pretty


def _form_values() -> dict[str, Any]:
    form = request.form
    events = [e.strip() for e in (form.get("events") or "").replace("\n", ",").split(",") if e.strip()]
    values: dict[str, Any] = {
        "url": (form.get("url") or "").strip(),
        "events": events,
        "description": (form.get("description") or "").strip(),
        "active": form.get("active") == "on",
    }
    if (form.get("secret") or "").strip():
        values["secret"] = form["secret"].strip()
    return values


def _admins_only() -> None:
    """Viewers never reach the endpoint form (checked before anything is looked up)."""
    if not g.principal.is_admin:
        raise ApiError(403, "forbidden", "you are logged in as a viewer; only admins edit webhook endpoints")


def _form(values: dict[str, Any], errors: list[dict[str, str]], endpoint_id: str | None) -> Response:
    _admins_only()
    response = render("webhook_form.html", values=values, errors=errors, endpoint_id=endpoint_id)
    if errors:
        response.status_code = 400
    return response


def _problems(call: Any) -> list[dict[str, str]] | Any:
    try:
        return call()
    except ValidationError as error:
        return [{"field": d["field"], "message": d["message"]} for d in validation_details(error)]
    except ApiError as error:
        return [{"field": error.message.split(":", 1)[0], "message": error.message}]


def new_endpoint() -> Response:
    if request.method == "GET":
        return _form({"events": ["*"], "active": True}, [], None)
    values = _form_values()

    def create() -> Any:
        body = EndpointCreate.model_validate(values)
        secret = body.secret or standard_webhooks.generate_secret()
        store = WebhookStore(state().connection)
        endpoint = store.create_endpoint(webhooks_api._check_target(body.url), secret,
                                         webhooks_api._check_events(body.events), body.active, body.description,
                                         webhooks_api._encrypting(), datetime.now(UTC).isoformat())  # fmt: skip
        return endpoint, (None if body.secret else secret)

    outcome = _problems(create)
    if isinstance(outcome, list):
        return _form(values, outcome, None)
    endpoint, secret = outcome
    # the generated secret is shown once, on this page (never in a cookie or a redirect)
    return render("webhook_created.html", endpoint=endpoint.public(), secret=secret)


def edit_endpoint(endpoint_id: str) -> Response | BaseResponse:
    _admins_only()
    endpoint = webhooks_api._endpoint(endpoint_id)
    if request.method == "GET":
        return _form(endpoint.public(), [], endpoint.id)
    values = _form_values()

    def update() -> Any:
        body = EndpointUpdate.model_validate(values)
        changes: dict[str, Any] = {
            "updated_at": datetime.now(UTC).isoformat(),
            "url": webhooks_api._check_target(body.url or endpoint.url),
            "events": sorted(set(webhooks_api._check_events(body.events or endpoint.events))),
            "active": bool(body.active),
            "description": body.description or "",
        }
        if body.secret is not None:
            changes["secret_encrypted"] = webhooks_api._encrypting().encrypt(body.secret)
        return WebhookStore(state().connection).save_endpoint(replace(endpoint, **changes))

    outcome = _problems(update)
    if isinstance(outcome, list):
        return _form(values, outcome, endpoint.id)
    flash(f"saved webhook endpoint {endpoint.id}")
    return redirect(url_for("pages.webhooks"))


def toggle_endpoint(endpoint_id: str) -> BaseResponse:
    endpoint = webhooks_api._endpoint(endpoint_id)
    WebhookStore(state().connection).save_endpoint(
        replace(endpoint, active=not endpoint.active, updated_at=datetime.now(UTC).isoformat())
    )
    flash(f"webhook endpoint {endpoint.id} {'disabled' if endpoint.active else 'enabled'}")
    return redirect(url_for("pages.webhooks"))


def delete_endpoint(endpoint_id: str) -> BaseResponse:
    webhooks_api.delete_endpoint(endpoint_id)
    flash(f"deleted webhook endpoint {endpoint_id}")
    return redirect(url_for("pages.webhooks"))


def delivery(delivery_id: str) -> Response:
    found = webhooks_api._delivery(delivery_id)
    attempts = WebhookStore(state().connection).attempt_log(found.id)
    try:
        payload = pretty(json.loads(found.body))
    except ValueError:
        payload = found.body
    return render(
        "webhook_delivery.html", "_webhook_delivery_figures.html",
        delivery=found.public(), payload=payload, attempts=attempts,
    )  # fmt: skip


def replay_from_page(delivery_id: str) -> BaseResponse:
    webhooks_api.retry_delivery(delivery_id)
    flash(f"webhook delivery {delivery_id} is being sent again")
    return redirect(url_for("pages.delivery", delivery_id=delivery_id))


def refresh_integration(integration_id: str) -> BaseResponse:
    integration = integrations_api._get(integration_id)
    integrations_api.refresh_now(integration.tenant_id, integration.id)
    flash(f"integration {integration.id}: refresh queued")
    return redirect(url_for("pages.integrations"))


def check_integration(integration_id: str) -> BaseResponse:
    """The API's health check now: runs one check in this request and says how it went."""
    result = integration_actions.health_check_now(integration_id).get_json() or {}
    action = f" ({result['action']})" if result.get("action") else ""
    flash(f"integration {integration_id}: health check says {result.get('status', 'unknown')}{action}")
    return redirect(url_for("pages.integrations"))


def delete_integration(integration_id: str) -> BaseResponse:
    integrations_api.delete_integration(integration_id)
    flash(f"deleted integration {integration_id}")
    return redirect(url_for("pages.integrations"))


def reset_breaker(name: str) -> BaseResponse:
    breakers_api.reset_breaker(name)
    flash(f"circuit breaker {name} reset")
    return redirect(url_for("pages.health"))


def register(bp: Blueprint) -> None:
    for rule, endpoint, view, methods in (
        ("/webhooks/endpoints/new", "new_endpoint", new_endpoint, ["GET", "POST"]),
        ("/webhooks/endpoints/<endpoint_id>/edit", "edit_endpoint", edit_endpoint, ["GET", "POST"]),
        ("/webhooks/endpoints/<endpoint_id>/toggle", "toggle_endpoint", toggle_endpoint, ["POST"]),
        ("/webhooks/endpoints/<endpoint_id>/delete", "delete_endpoint", delete_endpoint, ["POST"]),
        ("/webhooks/deliveries/<delivery_id>", "delivery", delivery, ["GET"]),
        ("/webhooks/deliveries/<delivery_id>/replay-here", "replay_here", replay_from_page, ["POST"]),
        ("/integrations/<integration_id>/refresh", "refresh_integration", refresh_integration, ["POST"]),
        ("/integrations/<integration_id>/health-check", "check_integration", check_integration, ["POST"]),
        ("/integrations/<integration_id>/delete", "delete_integration", delete_integration, ["POST"]),
        ("/breakers/<name>/reset", "reset_breaker", reset_breaker, ["POST"]),
    ):
        bp.add_url_rule(rule, endpoint, view, methods=methods)
