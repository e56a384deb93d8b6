"""/api/v1/queues: jobs per state in every configured queue."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from web.extension import state
from web.queries import queue_counts


def list_queues() -> Response:
    ext = state()
    return jsonify({"items": [queue_counts(ext.connection, name) for name in ext.settings.queues]})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/queues", "list_queues", list_queues, methods=["GET"])
