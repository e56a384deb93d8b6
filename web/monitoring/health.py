"""GET /healthz: 200 when everything runs, 200 "degraded" when a component is missing, 503 when Redis
is unreachable.

Without a token (load balancers, uptime probes) the answer is only ``{"status": ...}``: the details
name hosts, pids, running job ids and task names, which are nobody else's business. Any valid API
token (a viewer's is enough) gets the full report. A wrong token counts against its address like
any other (:func:`web.security.auth.check_secret`) and gets the short answer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError

from web.api.routes import AnyOf, Routes
from web.api.schemas import Error, Health, HealthStatus
from web.api.times import with_iso
from web.extension import state
from web.read_model.liveness import health
from web.security.auth import bearer_secret, check_secret

bp = Blueprint("health", __name__)
routes = Routes("")
EITHER = AnyOf((Health, HealthStatus))


def _may_see_details() -> bool:
    secret = bearer_secret()
    if secret is None:
        return False
    try:
        return check_secret(secret) is not None
    except RedisError:  # tokens live in Redis; while it is down the answer is "down" either way
        return False


@routes.get(
    "/healthz",
    "Liveness of Redis, workers and schedulers; the details only with a valid token",
    {
        200: (EITHER, "Up (status ok or degraded)"),
        503: (EITHER, "Redis unreachable"),
        429: (Error, "Too many wrong tokens from this address"),
    },
    security=({}, {"bearer": []}),
)
def healthz() -> Response:
    ext = state()
    try:
        report: dict[str, Any] = health(ext.connection, ext.settings, ext.now())
        status = 200
    except RedisError as error:
        report = {
            "status": "down",
            "redis": {"ok": False, "detail": f"Redis unreachable: {type(error).__name__}"},
            "workers": [],
            "schedulers": [],
            "problems": ["Redis is unreachable: nothing can be enqueued or run"],
        }
        status = 503
    # The schedulers' reports keep epoch seconds in Redis; like /api/v1, /healthz answers ISO 8601.
    report["schedulers"] = [with_iso(beat, "at") for beat in report["schedulers"]]
    response = jsonify(report if _may_see_details() else {"status": report["status"]})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


routes.register(bp)
