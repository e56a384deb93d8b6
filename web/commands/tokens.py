"""API token state changes: creating and revoking tokens (``/api/v1/tokens``, admins only).

The store is the app's own (:attr:`web.extension.Taskyard.tokens`, which also knows ``ADMIN_TOKEN``);
reading tokens is :mod:`web.read_model.tokens`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from jobs.api_tokens import TokenRecord, TokenStore
from web.errors import ApiError


def create_token(
    tokens: TokenStore, name: str, role: str, expires_at: datetime | None
) -> tuple[TokenRecord, str]:
    """A new token and its secret (shown to the caller once); a 400 for an expiry not in the future."""
    now = datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise ApiError(400, "validation_error", "expires_at: must be in the future")
    return tokens.create(name, role, expires_at, now)


def revoke_token(tokens: TokenStore, token_id: str) -> TokenRecord:
    """Revoke a token now (it stops working at once; the record stays for audit), or a 404."""
    record = tokens.revoke(token_id, datetime.now(UTC)) if re.fullmatch(r"[0-9a-f]{16}", token_id) else None
    if record is None:
        raise ApiError(404, "token_not_found", f"no token {token_id!r}")
    return record
