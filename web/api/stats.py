"""GET /api/v1/queues/stats: the four-figure queue statistics (waiting/active/completed/failed), admin only
(the super-admin role of the statistics is our ``admin`` role).

``GET /api/v1/queues`` (any role) has every RQ state; this is the four-figure summary.
"""

from __future__ import annotations

from flask import Response, jsonify
from pydantic import BaseModel

from web.api.routes import ListOf, Routes
from web.extension import state
from web.read_model.queries import queue_counts
from web.security.auth import require_admin

routes = Routes("/api/v1")


class QueueStats(BaseModel):
    """One queue: ``waiting`` (queued, plus delayed and deferred), ``active`` (running now),
    ``completed`` and ``failed`` (kept in RQ's registries for RESULT_TTL / FAILURE_TTL)."""

    name: str
    waiting: int
    active: int
    completed: int
    failed: int


@routes.get(
    "/queues/stats",
    "Waiting, active, completed and failed jobs per queue (admin)",
    {200: (ListOf(QueueStats), "Queue statistics")},
    errors=(401, 403, 503),
)
@require_admin
def queue_stats() -> Response:
    ext = state()
    items = []
    for name in ext.settings.worker.queues:
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
