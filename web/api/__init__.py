"""REST API v1: one blueprint, one module per resource.

A resource module declares each route once, on its view, with ``routes = Routes("/api/v1")`` and
``@routes.get(...)``/``@routes.post(...)`` (:mod:`web.api.routes`): the URL rules registered here
and the OpenAPI document (:mod:`web.api.openapi`) both come from those declarations. Add new
resources to ``RESOURCE_MODULES``.
"""

from __future__ import annotations

from types import ModuleType

from flask import Blueprint, request

from web.api import (
    breakers,
    dead_letters,
    health_metrics,
    integration_actions,
    integrations,
    job_actions,
    job_batch,
    job_listing,
    jobs,
    openapi,
    queues,
    stats,
    tasks,
    tokens,
    webhooks,
)
from web.security.auth import enforce_api_access

RESOURCE_MODULES: list[ModuleType] = [
    jobs,
    job_listing,
    job_batch,
    job_actions,
    dead_letters,
    tasks,
    stats,
    queues,
    tokens,
    webhooks,
    breakers,
    integrations,
    integration_actions,
    health_metrics,
]


def extra_openapi_modules() -> list[ModuleType]:
    """Documented modules outside /api/v1 (blueprints of their own)."""
    from web.admin import scheduler

    return [scheduler]


def create_blueprint() -> Blueprint:
    """Build /api/v1 with every resource module's routes (a fresh blueprint per app)."""
    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

    @bp.before_request
    def _auth() -> None:
        if request.endpoint != "api_v1.openapi_document":
            enforce_api_access()

    for module in RESOURCE_MODULES:
        module.routes.register(bp)
    openapi.register(bp)
    return bp
