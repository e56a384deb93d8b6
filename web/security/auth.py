"""Bearer-token authentication and roles for the API.

``viewer`` reads, ``admin`` also changes: GET/HEAD need any valid token, every other method needs an
admin. Endpoints that even a viewer may not read (tokens) use :func:`require_admin`.

Wrong tokens are counted per client address (:mod:`web.security.auth_throttle`): after
``MAX_BEARER_FAILURES`` within ``BEARER_FAILURE_WINDOW`` an address gets 429 with ``Retry-After``,
the wait doubling with each further wrong token (at most ``MAX_BEARER_BLOCK`` seconds), so a token
cannot be guessed at the speed of the network. A missing header is not counted (it guesses nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from jobs import keys
from jobs.api_tokens import Principal
from web.errors import ApiError
from web.extension import state
from web.read_model.tokens import principal as find_principal
from web.security.auth_throttle import FailureThrottle

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_BEARER_FAILURES = 20  # wrong tokens from one address before each further one imposes a wait
BEARER_FAILURE_WINDOW = 900  # seconds wrong tokens are remembered per address
MAX_BEARER_BLOCK = 300  # longest wait, in seconds


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate() -> Principal:
    """The caller of this request, or a 401 (a 429 while its address is slowed down)."""
    secret = bearer_secret()
    if secret is None:
        raise ApiError(401, "unauthorized", "missing bearer token: send 'Authorization: Bearer <token>'")
    principal = check_secret(secret)
    if principal is None:
        raise ApiError(401, "unauthorized", "invalid, expired or revoked token")
    g.principal = principal
    return principal


def check_secret(secret: str) -> Principal | None:
    """The principal of API token ``secret``, or None: counted against the caller's address when wrong,
    and refused with a 429 (without looking at the token) while that address must wait."""
    ext = state()
    throttle = FailureThrottle(
        ext.connection,
        keys.bearer_failures,
        keys.bearer_block,
        MAX_BEARER_FAILURES,
        BEARER_FAILURE_WINDOW,
        MAX_BEARER_BLOCK,
    )
    address = request.remote_addr or "unknown"
    wait = throttle.wait(address)
    if wait:
        raise _too_many(wait)
    principal = find_principal(ext.tokens, secret)
    if principal is None:
        block = throttle.record_failure(address)
        if block:
            raise _too_many(block)
    return principal


def _too_many(wait: int) -> ApiError:
    return ApiError(
        429,
        "too_many_failures",
        f"too many wrong tokens from your address; try again in {wait} s",
        headers={"Retry-After": str(wait)},
    )


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
