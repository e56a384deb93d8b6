"""/api/v1/tokens: admins create, list and revoke API tokens."""

from __future__ import annotations

from flask import Response, jsonify

from web.api.body import parse_body
from web.api.openapi import WRITE_ERRORS
from web.api.routes import ListOf, Routes
from web.api.schemas import TokenCreate, TokenCreated, TokenView
from web.commands.tokens import create_token as create
from web.commands.tokens import revoke_token as revoke
from web.extension import state
from web.read_model.tokens import tokens
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
    record, secret = create(state().tokens, body.name, body.role, body.expires_at)
    response = jsonify({**TokenView.of(record), "token": secret})
    response.status_code = 201
    return response


@routes.get("/tokens", "API tokens (admin)", {200: (ListOf(TokenView), "Tokens")}, errors=(401, 403, 503))
@require_admin
def list_tokens() -> Response:
    return jsonify({"items": [TokenView.of(record) for record in tokens(state().tokens)]})


@routes.delete(
    "/tokens/<token_id>", "Revoke a token (admin)", {200: (TokenView, "Revoked")}, errors=(401, 403, 404, 503)
)
@require_admin
def revoke_token(token_id: str) -> Response:
    return jsonify(TokenView.of(revoke(state().tokens, token_id)))
