"""/api/v1/queues: jobs per state in every configured queue (and any other queue holding jobs)."""

from __future__ import annotations

from flask import Response, jsonify

from web.api.openapi import READ_ERRORS
from web.api.routes import ListOf, Routes
from web.api.schemas import QueueView
from web.extension import state
from web.read_model.queries import queue_listing

routes = Routes("/api/v1")


@routes.get(
    "/queues", "Jobs per state in each queue", {200: (ListOf(QueueView), "Queues")}, errors=READ_ERRORS
)
def list_queues() -> Response:
    ext = state()
    return jsonify({"items": queue_listing(ext.connection, ext.settings)})
