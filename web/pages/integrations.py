"""Webhooks (endpoints, recent deliveries with attempts) and OAuth integrations (status, expiry, next
refresh), read through :mod:`web.read_model.webhooks` and :mod:`web.read_model.integrations`; failed
deliveries are also listed on the dead-letters page, and their replay is the webhooks API's own command
(:func:`web.commands.webhooks.replay_delivery`)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from jobs.crypto import EncryptionUnavailable
from web.api.webhook_schemas import EndpointView
from web.commands.webhooks import replay_delivery as replay
from web.errors import ApiError
from web.extension import state
from web.pages import pagination, render
from web.read_model import webhooks as read_webhooks
from web.read_model.integrations import with_next_refresh
from web.read_model.webhooks import STATUSES


def webhooks() -> Response:
    page, per_page = pagination()
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(400, "validation_error", f"status must be one of {', '.join(STATUSES)}")
    connection = state().connection
    deliveries, total = read_webhooks.deliveries(connection, None, status, page, per_page)
    result = {"items": deliveries, "total": total, "page": page, "per_page": per_page}
    endpoints = [EndpointView.of(e) for e in read_webhooks.endpoints(connection)]
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
    ext = state()
    replay(ext.connection, ext.settings, delivery_id)
    flash(f"webhook delivery {delivery_id} is being sent again")
    return redirect(url_for("pages.dead_letters"))


def integrations() -> Response:
    ext = state()
    try:
        items = with_next_refresh(ext.connection, ext.settings)
    except EncryptionUnavailable as error:
        return render("integrations.html", items=[], problem=str(error))
    return render("integrations.html", "_integrations_figures.html", items=items, problem=None)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/webhooks", "webhooks", webhooks, methods=["GET"])
    bp.add_url_rule(
        "/webhooks/deliveries/<delivery_id>/replay", "replay_delivery", replay_delivery, methods=["POST"]
    )
    bp.add_url_rule("/integrations", "integrations", integrations, methods=["GET"])
