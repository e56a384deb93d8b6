"""Webhook endpoints created, edited, disabled and deleted from the browser; one delivery's page with
its payload and every attempt, and replay; integration refresh now / health check now / delete and
circuit-breaker reset.

The buttons and the endpoint form call the same command modules as the REST API (:mod:`web.commands`:
webhooks, integrations, breakers) and read through :mod:`web.read_model`, so a button and an endpoint do
the same thing; the endpoint form validates with the API's own models and target check.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from web.api.webhook_schemas import EndpointCreate, EndpointUpdate, EndpointView
from web.commands import breakers as breaker_commands
from web.commands import integrations as integration_commands
from web.commands import webhooks as webhook_commands
from web.errors import ApiError, validation_details
from web.extension import state
from web.pages import render
from web.read_model import webhooks as read_webhooks
from web.read_model.integrations import integration as find_integration
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
    response = render("webhook_form.html", values=values, errors=errors, endpoint_id=endpoint_id)
    if errors:
        response.status_code = 400
    return response


def _problems(error: ValidationError | ApiError) -> list[dict[str, str]]:
    """What the form shows beside its fields: each validation problem, or the one refusal."""
    if isinstance(error, ValidationError):
        return [{"field": d["field"], "message": d["message"]} for d in validation_details(error)]
    return [{"field": error.message.split(":", 1)[0], "message": error.message}]


def endpoint_form(endpoint_id: str | None = None) -> Response | BaseResponse:
    """The endpoint form: a new endpoint (no ``endpoint_id``) or an existing one. A new endpoint's page
    shows a secret Taskyard generated once (never in a cookie or a redirect); an edit sets every field
    the form has (a blank secret keeps the old one) and goes back to the webhooks page."""
    _admins_only()
    ext = state()
    endpoint = None if endpoint_id is None else read_webhooks.endpoint(ext.connection, endpoint_id)
    shown_id = None if endpoint is None else endpoint.id
    if request.method == "GET":
        blank = {"events": ["*"], "active": True}
        return _form(blank if endpoint is None else EndpointView.of(endpoint), [], shown_id)
    values = _form_values()
    try:
        if endpoint is None:
            body = EndpointCreate.model_validate(values)
            created, secret = webhook_commands.create_endpoint(ext.connection, ext.settings, body)
            return render("webhook_created.html", endpoint=EndpointView.of(created), secret=secret)
        changes = EndpointUpdate.model_validate(values)
        webhook_commands.update_endpoint(ext.connection, ext.settings, endpoint, changes)
    except (ValidationError, ApiError) as error:
        return _form(values, _problems(error), shown_id)
    flash(f"saved webhook endpoint {endpoint.id}")
    return redirect(url_for("pages.webhooks"))


def toggle_endpoint(endpoint_id: str) -> BaseResponse:
    connection = state().connection
    endpoint = read_webhooks.endpoint(connection, endpoint_id)
    webhook_commands.toggle_endpoint(connection, endpoint)
    flash(f"webhook endpoint {endpoint.id} {'disabled' if endpoint.active else 'enabled'}")
    return redirect(url_for("pages.webhooks"))


def delete_endpoint(endpoint_id: str) -> BaseResponse:
    connection = state().connection
    webhook_commands.delete_endpoint(connection, read_webhooks.endpoint(connection, endpoint_id))
    flash(f"deleted webhook endpoint {endpoint_id}")
    return redirect(url_for("pages.webhooks"))


def delivery(delivery_id: str) -> Response:
    connection = state().connection
    found = read_webhooks.delivery(connection, delivery_id)
    attempts = read_webhooks.attempt_log(connection, found.id)
    try:
        payload = pretty(json.loads(found.body))
    except ValueError:
        payload = found.body
    return render(
        "webhook_delivery.html", "_webhook_delivery_figures.html",
        delivery=found, payload=payload, attempts=attempts,
    )  # fmt: skip


def replay_from_page(delivery_id: str) -> BaseResponse:
    ext = state()
    webhook_commands.replay_delivery(ext.connection, ext.settings, delivery_id)
    flash(f"webhook delivery {delivery_id} is being sent again")
    return redirect(url_for("pages.delivery", delivery_id=delivery_id))


def integration_button(integration_id: str, button: str) -> BaseResponse:
    """An integration's buttons: ``refresh`` (a refresh job now), ``health-check`` (the API's health
    check now: one check in this request, and how it went) and ``delete``."""
    ext = state()
    integration = find_integration(ext.connection, ext.settings, integration_id)
    if button == "refresh":
        integration_commands.queue_refresh(ext.connection, ext.settings, integration)
        message = f"integration {integration.id}: refresh queued"
    elif button == "health-check":
        result = integration_commands.health_check_now(ext.connection, ext.settings, integration)
        action = f" ({result['action']})" if result.get("action") else ""
        message = f"integration {integration_id}: health check says {result.get('status', 'unknown')}{action}"
    else:
        integration_commands.delete_integration(ext.connection, ext.settings, integration)
        message = f"deleted integration {integration_id}"
    flash(message)
    return redirect(url_for("pages.integrations"))


def reset_breaker(name: str) -> BaseResponse:
    ext = state()
    breaker_commands.reset(ext.connection, ext.settings, name)
    flash(f"circuit breaker {name} reset")
    return redirect(url_for("pages.health"))


def register(bp: Blueprint) -> None:
    for rule, endpoint, view, methods in (
        ("/webhooks/endpoints/new", "new_endpoint", endpoint_form, ["GET", "POST"]),
        ("/webhooks/endpoints/<endpoint_id>/edit", "edit_endpoint", endpoint_form, ["GET", "POST"]),
        ("/webhooks/endpoints/<endpoint_id>/toggle", "toggle_endpoint", toggle_endpoint, ["POST"]),
        ("/webhooks/endpoints/<endpoint_id>/delete", "delete_endpoint", delete_endpoint, ["POST"]),
        ("/webhooks/deliveries/<delivery_id>", "delivery", delivery, ["GET"]),
        ("/webhooks/deliveries/<delivery_id>/replay-here", "replay_here", replay_from_page, ["POST"]),
        ("/breakers/<name>/reset", "reset_breaker", reset_breaker, ["POST"]),
    ):
        bp.add_url_rule(rule, endpoint, view, methods=methods)
    for button, endpoint in (
        ("refresh", "refresh_integration"),
        ("health-check", "check_integration"),
        ("delete", "delete_integration"),
    ):
        bp.add_url_rule(f"/integrations/<integration_id>/{button}", endpoint, integration_button,
                        methods=["POST"], defaults={"button": button})  # fmt: skip
