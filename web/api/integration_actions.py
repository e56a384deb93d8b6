"""On-demand integration work, answered synchronously as the design notes' API does it.

The background-jobs note's current API refreshes tokens and checks health inside the request
(``return jsonResponse(res, 200, updatedIntegration)`` / ``jsonResponse(res, 200, healthStatus)``).
Taskyard's refresh endpoint enqueues a job (202) by default; with ``?wait=true`` it refreshes in the
request instead and answers 200 with the updated integration, bounded by ``OAUTH_TIMEOUT`` (the one
call to the provider; the per-integration lock is never waited for: a refresh already running is a
409). ``POST /api/v1/integrations/<id>/health-check`` runs one health check now and answers its result;
it starts no chain of its own (the integration keeps its one stable ``oauth-health-<id>`` chain).
"""

from __future__ import annotations

from flask import Response, jsonify, request
from pydantic import BaseModel

from web.api.routes import Routes
from web.commands.integrations import health_check_now as check_now
from web.errors import ApiError
from web.extension import state
from web.read_model.integrations import integration as find_integration

WAIT_VALUES = {"true": True, "1": True, "false": False, "0": False, "": False}
routes = Routes("/api/v1")


class HealthCheckResult(BaseModel):
    integration_id: str
    status: str
    action: str | None = None
    error: str | None = None


def wants_wait() -> bool:
    """The ``wait`` query argument: true/1 or false/0 (absent: false); anything else is a 400."""
    raw = request.args.get("wait", "").strip().lower()
    if raw not in WAIT_VALUES:
        raise ApiError(400, "validation_error", "wait: expected true or false")
    return WAIT_VALUES[raw]


@routes.post(
    "/integrations/<integration_id>/health-check",
    "Check the integration now and answer the result (starts no second health-check chain)",
    {200: (HealthCheckResult, "The check's result")},
    errors=(401, 403, 404, 409, 429, 503),
    name="integration_health_check",
)
def health_check_now(integration_id: str) -> Response:
    ext = state()
    integration = find_integration(ext.connection, ext.settings, integration_id)
    return jsonify(check_now(ext.connection, ext.settings, integration))
