"""/api/v1/breakers: the circuit breaker of every external host Taskyard calls, and a manual reset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel

from web.api.openapi import READ_ERRORS
from web.api.routes import ListOf, Routes
from web.api.times import with_iso
from web.commands.breakers import reset
from web.extension import state
from web.read_model.breakers import breakers

routes = Routes("/api/v1")


class BreakerView(BaseModel):
    name: str
    state: str
    failures: int
    successes: int
    opened_at: datetime | None
    retry_at: datetime | None


def _view(view: dict[str, Any]) -> dict[str, Any]:
    return with_iso(view, "opened_at", "retry_at")


@routes.get(
    "/breakers",
    "Circuit breakers per external host (closed, open, half_open)",
    {200: (ListOf(BreakerView), "Breakers")},
    errors=READ_ERRORS,
)
def list_breakers() -> Response:
    ext = state()
    return jsonify({"items": [_view(d.view()) for d in breakers(ext.connection, ext.settings)]})


@routes.post(
    "/breakers/<name>/reset",
    "Close a breaker by hand",
    {200: (BreakerView, "Closed")},
    errors=(401, 403, 404, 503),
)
def reset_breaker(name: str) -> Response:
    ext = state()
    return jsonify(_view(reset(ext.connection, ext.settings, name).view()))
