"""Webhooks (endpoints, recent deliveries with attempts) and OAuth integrations (status, expiry, next
refresh), read through the stores of the webhook and integration modules; failed deliveries are also
listed on the dead-letters page, and their replay is the webhooks API's own view."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from jobs.crypto import EncryptionUnavailable, cipher
from jobs.integrations.store import IntegrationStore, refresh_due
from jobs.webhooks.store import STATUSES, WebhookStore
from web.api import webhooks as webhooks_api
from web.errors import ApiError
from web.extension import state
from web.pages import pagination, render


def webhooks() -> Response:
    page, per_page = pagination()
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(400, "validation_error", f"status must be one of {', '.join(STATUSES)}")
    store = WebhookStore(state().connection)
    deliveries, total = store.list_deliveries(None, status, page, per_page)
    result = {"items": [d.public() for d in deliveries], "total": total, "page": page, "per_page": per_page}
    endpoints = [e.public() for e in store.endpoints()]
    return render(
        "webhooks.html",
        "_webhooks_figures.html",
        endpoints=endpoints,
        result=result,
        statuses=STATUSES,
        status=status,
    )


def replay_delivery(delivery_id: str) -> BaseResponse:
    """The webhooks API's replay (a 404 or 409 comes back as that API's error)."""
    webhooks_api.retry_delivery(delivery_id)
    flash(f"webhook delivery {delivery_id} is being sent again")
    return redirect(url_for("pages.dead_letters"))


def integrations() -> Response:
    ext = state()
    try:
        store = IntegrationStore(ext.connection, cipher(ext.settings))
    except EncryptionUnavailable as error:
        return render("integrations.html", items=[], problem=str(error))
    items = []
    for integration in store.all():
        view = integration.public()
        due = refresh_due(integration.expires_at, ext.settings.oauth_refresh_lead)
        view["next_refresh"] = datetime.fromtimestamp(due, UTC).isoformat(timespec="seconds")
        items.append(view)
    return render("integrations.html", "_integrations_figures.html", items=items, problem=None)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/webhooks", "webhooks", webhooks, methods=["GET"])
    bp.add_url_rule(
        "/webhooks/deliveries/<delivery_id>/replay", "replay_delivery", replay_delivery, methods=["POST"]
    )
    bp.add_url_rule("/integrations", "integrations", integrations, methods=["GET"])
