"""API tokens as ``/api/v1/tokens`` and the login checks read them: records without their digests'
secrets, and who a presented secret belongs to. Changes are :mod:`web.commands.tokens`."""

from __future__ import annotations

from datetime import UTC, datetime

from jobs.api_tokens import Principal, TokenRecord, TokenStore


def tokens(store: TokenStore) -> list[TokenRecord]:
    """Every token (revoked ones too, until they are purged), oldest first."""
    return store.all()


def token(store: TokenStore, token_id: str) -> TokenRecord | None:
    """One token's record, or None."""
    return store.get(token_id)


def principal(store: TokenStore, secret: str) -> Principal | None:
    """Who presents ``secret`` now: ``ADMIN_TOKEN``'s bootstrap admin or a usable token's principal;
    None for an unknown, expired or revoked one."""
    return store.authenticate(secret, datetime.now(UTC))
