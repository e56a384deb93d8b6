"""GET /healthz: no auth; 200 when everything runs, 200 "degraded" when a component is missing,
503 when Redis is unreachable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError

from web.api.openapi import json_response, ref
from web.api.schemas import Health
from web.extension import state
from web.queries import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    ext = state()
    try:
        report = health(ext.connection, ext.settings, datetime.now(UTC))
    except RedisError as error:
        response = jsonify(
            {
                "status": "down",
                "redis": {"ok": False, "detail": f"Redis unreachable: {type(error).__name__}"},
                "workers": [],
                "schedulers": [],
                "problems": ["Redis is unreachable: nothing can be enqueued or run"],
            }
        )
        response.status_code = 503
        return response
    return jsonify(report)


OPENAPI_MODELS = (Health,)


def openapi_paths() -> dict[str, Any]:
    return {
        "/healthz": {
            "get": {
                "summary": "Liveness of Redis, workers and schedulers, and what is missing (no auth)",
                "security": [],
                "responses": {
                    "200": json_response(ref(Health), "Up (status ok or degraded)"),
                    "503": json_response(ref(Health), "Redis unreachable"),
                },
            }
        }
    }
