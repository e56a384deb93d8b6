"""GET /api/v1/queues/stats: the four-figure queue statistics (waiting/active/completed/failed), admin only
(the super-admin role of the statistics is our ``admin`` role).

``GET /api/v1/queues`` (any role) has every RQ state; this is the four-figure summary.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from web.api.openapi import errors, json_response, list_of, operation
from web.extension import state
from web.read_model.queries import queue_counts
from web.security.auth import require_admin


class QueueStats(BaseModel):
    """One queue: ``waiting`` (queued, plus delayed and deferred), ``active`` (running now),
    ``completed`` and ``failed`` (kept in RQ's registries for RESULT_TTL / FAILURE_TTL)."""

    name: str
    waiting: int
    active: int
    completed: int
    failed: int


@require_admin
def queue_stats() -> Response:
    ext = state()
    items = []
    for name in ext.settings.queues:
        counts = queue_counts(ext.connection, name)
        items.append(
            {
                "name": name,
                "waiting": counts["queued"] + counts["scheduled"] + counts["deferred"],
                "active": counts["started"],
                "completed": counts["finished"],
                "failed": counts["failed"],
            }
        )
    return jsonify({"items": items})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/queues/stats", "queue_stats", queue_stats, methods=["GET"])


OPENAPI_MODELS = (QueueStats,)


def openapi_paths() -> dict[str, Any]:
    return {
        "/api/v1/queues/stats": {
            "get": operation(
                "Waiting, active, completed and failed jobs per queue (admin)",
                {"200": json_response(list_of(QueueStats), "Queue statistics"), **errors(401, 403, 503)},
            )
        }
    }
