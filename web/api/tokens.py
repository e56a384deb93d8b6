"""/api/v1/tokens: admins create, list and revoke API tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Response, jsonify

from web.api.body import parse_body
from web.api.openapi import WRITE_ERRORS
from web.api.routes import ListOf, Routes
from web.api.schemas import TokenCreate, TokenCreated, TokenView
from web.errors import ApiError
from web.extension import state
from web.security.auth import require_admin

routes = Routes("/api/v1")


@routes.post(
    "/tokens",
    "Create an API token (admin); the secret is in this response only",
    {201: (TokenCreated, "Created")},
    errors=WRITE_ERRORS,
    body=TokenCreate,
)
@require_admin
def create_token() -> Response:
    body = parse_body(TokenCreate)
    now = datetime.now(UTC)
    if body.expires_at is not None and body.expires_at <= now:
        raise ApiError(400, "validation_error", "expires_at: must be in the future")
    record, secret = state().tokens.create(body.name, body.role, body.expires_at, now)
    response = jsonify({**record.public(), "token": secret})
    response.status_code = 201
    return response


@routes.get("/tokens", "API tokens (admin)", {200: (ListOf(TokenView), "Tokens")}, errors=(401, 403, 503))
@require_admin
def list_tokens() -> Response:
    return jsonify({"items": [record.public() for record in state().tokens.all()]})


@routes.delete(
    "/tokens/<token_id>", "Revoke a token (admin)", {200: (TokenView, "Revoked")}, errors=(401, 403, 404, 503)
)
@require_admin
def revoke_token(token_id: str) -> Response:
    record = (
        state().tokens.revoke(token_id, datetime.now(UTC))
        if re.fullmatch(r"[0-9a-f]{16}", token_id)
        else None
    )
    if record is None:
        raise ApiError(404, "token_not_found", f"no token {token_id!r}")
    return jsonify(record.public())
