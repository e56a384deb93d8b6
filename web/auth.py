"""Bearer-token authentication and roles for the API.

``viewer`` reads, ``admin`` also changes: GET/HEAD need any valid token, every other method needs an
admin. Endpoints that even a viewer may not read (tokens) use :func:`require_admin`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from web.errors import ApiError
from web.extension import state
from web.tokens import Principal

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate() -> Principal:
    """The caller of this request, or a 401."""
    secret = bearer_secret()
    if secret is None:
        raise ApiError(401, "unauthorized", "missing bearer token: send 'Authorization: Bearer <token>'")
    principal = state().tokens.authenticate(secret, datetime.now(UTC))
    if principal is None:
        raise ApiError(401, "unauthorized", "invalid, expired or revoked token")
    g.principal = principal
    return principal


def enforce_api_access() -> None:
    """``before_request`` for API blueprints: authenticate, and require admin for changes."""
    principal = authenticate()
    if request.method not in SAFE_METHODS and not principal.is_admin:
        raise ApiError(403, "forbidden", "this token's role is viewer; changes need an admin token")


def require_admin(view: F) -> F:
    """Decorator for views only admins may call, whatever the method."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        principal: Principal = g.get("principal") or authenticate()
        if not principal.is_admin:
            raise ApiError(403, "forbidden", "this endpoint needs an admin token")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal
