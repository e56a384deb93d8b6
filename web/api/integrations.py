"""/api/v1/integrations and their manual token refresh: OAuth integrations, never their secrets."""

from __future__ import annotations

import re
import time

from flask import Response, jsonify, request, url_for
from pydantic import BaseModel, Field

from jobs.crypto import EncryptionUnavailable, cipher
from jobs.integrations.store import (
    Integration,
    IntegrationStore,
    schedule_health,
    schedule_refresh,
    unschedule,
)
from jobs.outbound.url_policy import TargetRefused, check_url
from web.api.body import parse_body
from web.api.integration_actions import refresh_and_wait, wants_wait
from web.api.jobs import accepted
from web.api.openapi import READ_ERRORS, WRITE_ERRORS, query_param
from web.api.routes import ListOf, Routes
from web.api.schemas import JobAccepted, Strict
from web.errors import ApiError
from web.extension import state

ID_PATTERN = re.compile(r"^int_[0-9a-f]{16}$")
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


class IntegrationView(BaseModel):
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


class RefreshQueued(JobAccepted):
    pass  # its own name in the OpenAPI document


SHOWN = "The integration (no secrets or tokens)"


def _store() -> IntegrationStore:
    try:
        return IntegrationStore(state().connection, cipher(state().settings))
    except EncryptionUnavailable as error:
        raise ApiError(409, "encryption_unavailable", str(error)) from None


def _get(integration_id: str, tenant_id: str | None = None) -> Integration:
    found = _store().get(integration_id) if ID_PATTERN.match(integration_id) else None
    if found is None or (tenant_id is not None and found.tenant_id != tenant_id):
        raise ApiError(404, "integration_not_found", f"no integration {integration_id!r}")
    return found


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
    try:
        check_url(body.token_url, ext.settings.webhook_allow_private_targets)
    except TargetRefused as error:
        raise ApiError(400, "target_refused", f"token_url: {error}") from None
    now = time.time()
    integration = _store().create(body.model_dump(), now)
    schedule_refresh(ext.connection, ext.settings, integration, now)
    schedule_health(ext.connection, ext.settings, integration)
    response = jsonify(integration.public())
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
    tenant = request.args.get("tenant_id")
    items = [i.public() for i in _store().all() if tenant is None or i.tenant_id == tenant]
    return jsonify({"items": items})


@routes.get(
    "/integrations/<integration_id>",
    "One integration",
    {200: (IntegrationView, SHOWN)},
    errors=(*READ_ERRORS, 404),
)
def get_integration(integration_id: str) -> Response:
    return jsonify(_get(integration_id).public())


@routes.delete(
    "/integrations/<integration_id>",
    "Remove an integration and its jobs",
    {200: (IntegrationView, SHOWN)},
    errors=(401, 403, 404, 503),
)
def delete_integration(integration_id: str) -> Response:
    integration = _get(integration_id)
    unschedule(state().connection, integration.id)
    _store().delete(integration.id)
    return jsonify(integration.public())


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
    integration = _get(integration_id, tenant_id)
    if wants_wait():
        return refresh_and_wait(integration)
    job = schedule_refresh(ext.connection, ext.settings, integration, time.time(), urgent=True)
    if job is None:
        raise ApiError(409, "refresh_running", f"a refresh of {integration_id} is running now")
    return accepted(job)
