"""Times as RQ stores them, made explicit: RQ writes naive datetimes that mean UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def aware(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (a naive one is RQ's UTC); ``None`` stays ``None``."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
