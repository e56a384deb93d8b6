"""Removal of expired and long-revoked API tokens, in the jobs layer so the maintenance jobs can run it.

The records and their format belong to :class:`jobs.api_tokens.TokenStore`; this module only decides
which ones go. Revoked tokens are kept for ``REVOKED_RETENTION`` (90 days) for audit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from redis import Redis

from jobs.api_tokens import TokenStore

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
    store = TokenStore(connection, admin_token=None)
    removed = 0
    for record in store.all():
        old_revoked = revoked_retention is not None and record.revoked_before(now - revoked_retention)
        if (expired and record.expired(now)) or old_revoked:
            store.remove(record)
            removed += 1
    return removed
