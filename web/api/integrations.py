"""/api/v1/integrations and their manual token refresh: OAuth integrations, never their secrets."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from pydantic import Field, field_validator

from web.api.body import parse_body
from web.api.integration_actions import wants_wait
from web.api.jobs import accepted
from web.api.openapi import READ_ERRORS, WRITE_ERRORS, query_param
from web.api.routes import ListOf, Routes
from web.api.schemas import JobAccepted, Strict, View
from web.api.times import iso_utc
from web.commands import integrations as commands
from web.extension import state
from web.read_model import integrations as read

NAME = r"^[A-Za-z0-9_.:-]{1,100}$"
routes = Routes("/api/v1")


class IntegrationCreate(Strict):
    """POST /api/v1/integrations. Secrets and tokens are encrypted at rest and never returned."""

    tenant_id: str = Field(pattern=NAME)
    provider: str = Field(pattern=NAME)
    token_url: str = Field(min_length=8, max_length=2048)
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: str = Field(min_length=1, max_length=4096)
    access_token: str = Field(min_length=1, max_length=16384)
    refresh_token: str | None = Field(default=None, min_length=1, max_length=16384)
    expires_in: int = Field(ge=1, le=366 * 24 * 3600, description="Seconds until the access token expires")
    owner_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)


# What the API and the pages show of an integration: never a secret or a token; times in ISO 8601 UTC
# (the store keeps epoch seconds). A docstring here would change the OpenAPI document.
class IntegrationView(View):
    id: str
    tenant_id: str
    provider: str
    token_url: str
    client_id: str
    owner_email: str
    status: str
    status_reason: str | None
    expires_at: str
    has_refresh_token: bool
    created_at: str
    updated_at: str
    last_refreshed_at: str | None
    refreshes: int
    refresh_job_id: str
    health_job_id: str

    @field_validator("expires_at", "created_at", "updated_at", "last_refreshed_at", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        return iso_utc(value) if isinstance(value, int | float) else value


class RefreshQueued(JobAccepted):
    pass  # its own name in the OpenAPI document


SHOWN = "The integration (no secrets or tokens)"


@routes.post(
    "/integrations",
    "Register an OAuth integration; schedules its token refresh and health check",
    {201: (IntegrationView, SHOWN)},
    errors=(*WRITE_ERRORS, 409),
    body=IntegrationCreate,
)
def create_integration() -> Response:
    body = parse_body(IntegrationCreate)
    ext = state()
    integration = commands.create_integration(ext.connection, ext.settings, body.model_dump())
    response = jsonify(IntegrationView.of(integration))
    response.status_code = 201
    response.headers["Location"] = url_for("api_v1.get_integration", integration_id=integration.id)
    return response


@routes.get(
    "/integrations",
    "OAuth integrations (optionally ?tenant_id=)",
    {200: (ListOf(IntegrationView), "Integrations")},
    errors=READ_ERRORS,
)
def list_integrations() -> Response:
    ext = state()
    found = read.integrations(ext.connection, ext.settings, request.args.get("tenant_id"))
    return jsonify({"items": [IntegrationView.of(i) for i in found]})


@routes.get(
    "/integrations/<integration_id>",
    "One integration",
    {200: (IntegrationView, SHOWN)},
    errors=(*READ_ERRORS, 404),
)
def get_integration(integration_id: str) -> Response:
    ext = state()
    return jsonify(IntegrationView.of(read.integration(ext.connection, ext.settings, integration_id)))


@routes.delete(
    "/integrations/<integration_id>",
    "Remove an integration and its jobs",
    {200: (IntegrationView, SHOWN)},
    errors=(401, 403, 404, 503),
)
def delete_integration(integration_id: str) -> Response:
    ext = state()
    integration = read.integration(ext.connection, ext.settings, integration_id)
    commands.delete_integration(ext.connection, ext.settings, integration)
    return jsonify(IntegrationView.of(integration))


@routes.post(
    "/oauth/tenants/<tenant_id>/integrations/<integration_id>/refresh",
    "Refresh the integration's tokens now: a job at the front of the queue (202), or with "
    "?wait=true in this request (200, the updated integration)",
    {200: (IntegrationView, "Refreshed (wait=true)"), 202: (RefreshQueued, "Refresh enqueued")},
    errors=(400, 401, 403, 404, 409, 502, 503),
    parameters=(
        query_param(
            "wait",
            {"type": "string", "enum": ["true", "false", "1", "0", ""]},
            "true: refresh in the request and answer 200 with the integration",
        ),
    ),
    name="refresh_integration",
)
def refresh_now(tenant_id: str, integration_id: str) -> Response:
    ext = state()
    integration = read.integration(ext.connection, ext.settings, integration_id, tenant_id)
    if wants_wait():
        return jsonify(
            IntegrationView.of(commands.refresh_and_wait(ext.connection, ext.settings, integration))
        )
    return accepted(commands.queue_refresh(ext.connection, ext.settings, integration))
