"""Removal of expired and long-revoked API tokens, in the jobs layer so the maintenance jobs can run it.

Token records live in the ``keys.TOKENS`` hash (id -> JSON with ``expires_at``, ``revoked_at`` and the
``digest`` indexed in ``keys.TOKEN_INDEX``), written by ``jobs.api_tokens.TokenStore``, whose ``purge`` calls
:func:`purge_tokens`. Revoked tokens are kept for ``REVOKED_RETENTION`` (90 days) for audit.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from redis import Redis

from jobs import keys

REVOKED_RETENTION = timedelta(days=90)  # revoked tokens stay listed this long, for audit


def purge_tokens(
    connection: Redis,
    now: datetime,
    *,
    expired: bool = True,
    revoked_retention: timedelta | None = REVOKED_RETENTION,
) -> int:
    """Delete unrevoked tokens past their expiry (``expired``) and tokens revoked more than
    ``revoked_retention`` ago (None: keep every revoked token). Returns how many were removed."""
    removed = 0
    for raw in connection.hvals(keys.TOKENS):
        record = json.loads(raw)
        revoked_at = record.get("revoked_at")
        expires_at = record.get("expires_at")
        is_expired = (
            expired
            and revoked_at is None
            and expires_at is not None
            and datetime.fromisoformat(expires_at) <= now
        )
        old_revoked = (
            revoked_retention is not None
            and revoked_at is not None
            and datetime.fromisoformat(revoked_at) + revoked_retention <= now
        )
        if is_expired or old_revoked:
            with connection.pipeline() as pipe:
                pipe.hdel(keys.TOKENS, record["id"])
                pipe.hdel(keys.TOKEN_INDEX, record["digest"])
                pipe.execute()
            removed += 1
    return removed
