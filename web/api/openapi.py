"""/api/v1/openapi.json: the API described from the same pydantic models that validate it.

``tests/integration/test_openapi.py`` keeps this true: every route of the app is described, every
described route exists, and real responses validate against the schemas given here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from web.api import schemas

REF = "#/components/schemas/{model}"
MODELS: tuple[type[BaseModel], ...] = (
    schemas.JobCreate,
    schemas.JobView,
    schemas.TaskView,
    schemas.QueueView,
    schemas.TokenCreate,
    schemas.TokenView,
    schemas.TokenCreated,
    schemas.Health,
    schemas.Error,
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _list_of(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": _ref(model)}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "Invalid input",
        401: "Missing or invalid token",
        403: "The token's role may not do this",
        404: "Not found",
        409: "Conflicts with the current state",
        413: "Body too large",
        415: "Not JSON",
        422: "Idempotency-Key reused with another body",
        503: "Redis unavailable or full",
    }
    return {str(s): _json(_ref(schemas.Error), reasons[s]) for s in statuses}


def _op(summary: str, responses: dict[str, Any], body: type[BaseModel] | None = None, **extra: Any) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "security": [{"bearer": []}], **extra}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return op


JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
TOKEN_ID = {"name": "token_id", "in": "path", "required": True, "schema": {"type": "string"}}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
READ_ERRORS = (401, 503)
WRITE_ERRORS = (400, 401, 403, 413, 415, 503)


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of /api/v1 and /healthz."""
    components = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template=REF)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    paths: dict[str, Any] = {
        "/api/v1/jobs": {
            "post": _op(
                "Enqueue a job of a registered task",
                {
                    "201": _json(_ref(schemas.JobView), "Created"),
                    "200": _json(_ref(schemas.JobView), "A pending job with this job_id already exists"),
                    **_errors(*WRITE_ERRORS, 409, 422),
                },
                schemas.JobCreate,
                parameters=[IDEMPOTENCY],
            )
        },
        "/api/v1/jobs/{job_id}": {
            "get": _op("A job's state and result", {"200": _json(_ref(schemas.JobView), "The job"),
                                                     **_errors(*READ_ERRORS, 404)}, parameters=[JOB_ID]),
            "delete": _op("Cancel a pending job or stop a running one",
                          {"200": _json(_ref(schemas.JobView), "Canceled"), **_errors(401, 403, 404, 409, 503)},
                          parameters=[JOB_ID]),
        },
        "/api/v1/jobs/{job_id}/requeue": {
            "post": _op("Put a failed, stopped or canceled job back on its queue",
                        {"200": _json(_ref(schemas.JobView), "Requeued"), **_errors(401, 403, 404, 409, 503)},
                        parameters=[JOB_ID]),
        },
        "/api/v1/tasks": {"get": _op("The task registry", {"200": _json(_list_of(schemas.TaskView), "Tasks"),
                                                           **_errors(*READ_ERRORS)})},
        "/api/v1/queues": {"get": _op("Jobs per state in each queue",
                                      {"200": _json(_list_of(schemas.QueueView), "Queues"), **_errors(*READ_ERRORS)})},
        "/api/v1/tokens": {
            "get": _op("API tokens (admin)", {"200": _json(_list_of(schemas.TokenView), "Tokens"),
                                              **_errors(401, 403, 503)}),
            "post": _op("Create an API token (admin); the secret is in this response only",
                        {"201": _json(_ref(schemas.TokenCreated), "Created"), **_errors(*WRITE_ERRORS)},
                        schemas.TokenCreate),
        },
        "/api/v1/tokens/{token_id}": {
            "delete": _op("Revoke a token (admin)", {"200": _json(_ref(schemas.TokenView), "Revoked"),
                                                     **_errors(401, 403, 404, 503)}, parameters=[TOKEN_ID]),
        },
        "/api/v1/openapi.json": {
            "get": {"summary": "This document", "security": [],
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")}},
        },
        "/healthz": {
            "get": {
                "summary": "Liveness of Redis, workers and schedulers (no auth)",
                "security": [],
                "responses": {"200": _json(_ref(schemas.Health), "Up (status ok or degraded)"),
                              "503": _json(_ref(schemas.Health), "Redis unreachable")},
            }
        },
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "Taskyard API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_document() -> Response:
    return jsonify(document())


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/openapi.json", "openapi_document", openapi_document, methods=["GET"])
