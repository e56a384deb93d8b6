"""GET /api/v1/health/metrics: the health time series the maintenance job samples every 5 minutes."""

from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify, request
from pydantic import BaseModel

from jobs.maintenance.health_metrics import recent
from web.api.openapi import READ_ERRORS, query_param
from web.api.routes import ListOf, Routes
from web.api.times import with_iso
from web.errors import ApiError
from web.extension import state

MAX_LIMIT = 2016
routes = Routes("/api/v1")


class HealthSample(BaseModel):
    at: datetime
    used_memory: int | None
    used_memory_peak: int | None
    keys: int
    ops_per_sec: int | None
    total_commands_processed: int | None
    connected_clients: int | None
    queue_depths: dict[str, int]


@routes.get(
    "/health/metrics",
    "Health samples (Redis memory, keys, ops, queue depths), newest first",
    {200: (ListOf(HealthSample), "Samples")},
    errors=(400, *READ_ERRORS),
    parameters=(query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),),
)
def health_metrics() -> Response:
    raw = request.args.get("limit", "288")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, "validation_error", f"limit: expected a whole number from 1 to {MAX_LIMIT}")
    return jsonify({"items": [with_iso(sample, "at") for sample in recent(state().connection, int(raw))]})
