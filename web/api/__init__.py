"""REST API v1: one blueprint, one module per resource."""

from __future__ import annotations

from flask import Blueprint

from web.auth import enforce_api_access


def create_blueprint() -> Blueprint:
    """Build /api/v1 with every resource module's routes (a fresh blueprint per app)."""
    from web.api import jobs, openapi, queues, tasks, tokens

    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

    @bp.before_request
    def _auth() -> None:
        from flask import request

        if request.endpoint != "api_v1.openapi_document":
            enforce_api_access()

    for module in (jobs, tasks, queues, tokens, openapi):
        module.register(bp)
    return bp
