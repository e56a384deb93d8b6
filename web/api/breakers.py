"""/api/v1/breakers: the circuit breaker of every external host Taskyard calls, and a manual reset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel
from rq.utils import as_text

from jobs import keys
from jobs.resilience.breaker import Breaker, all_breakers
from web.api.openapi import READ_ERRORS, errors, json_response, list_of, operation, path_param, ref
from web.api.times import with_iso
from web.errors import ApiError
from web.extension import state


class BreakerView(BaseModel):
    name: str
    state: str
    failures: int
    successes: int
    opened_at: datetime | None
    retry_at: datetime | None


def _view(view: dict[str, Any]) -> dict[str, Any]:
    return with_iso(view, "opened_at", "retry_at")


def list_breakers() -> Response:
    ext = state()
    return jsonify({"items": [_view(d.view()) for d in all_breakers(ext.connection, ext.settings)]})


def reset_breaker(name: str) -> Response:
    ext = state()
    if name not in {as_text(n) for n in ext.connection.smembers(keys.BREAKERS)}:
        raise ApiError(404, "breaker_not_found", f"no circuit breaker {name!r}")
    breaker = Breaker(ext.connection, ext.settings, name)
    breaker.reset()
    return jsonify(_view(breaker.peek().view()))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/breakers", "list_breakers", list_breakers, methods=["GET"])
    bp.add_url_rule("/breakers/<name>/reset", "reset_breaker", reset_breaker, methods=["POST"])


OPENAPI_MODELS = (BreakerView,)


def openapi_paths() -> dict[str, Any]:
    return {
        "/api/v1/breakers": {
            "get": operation(
                "Circuit breakers per external host (closed, open, half_open)",
                {"200": json_response(list_of(BreakerView), "Breakers"), **errors(*READ_ERRORS)},
            )
        },
        "/api/v1/breakers/{name}/reset": {
            "post": operation(
                "Close a breaker by hand",
                {"200": json_response(ref(BreakerView), "Closed"), **errors(401, 403, 404, 503)},
                parameters=[path_param("name")],
            )
        },
    }
