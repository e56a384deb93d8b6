"""One time format for /api/v1: ISO 8601 in UTC with its offset (``2026-12-02T14:05:00.123000+00:00``).

The stores keep epoch seconds (cheap to compare and to score in Redis); the API converts at its edge,
so no response carries an epoch number. The scheduler API under ``/admin/scheduler`` keeps its own
contract (epoch milliseconds) and does not use this module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso_utc(seconds: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC; None stays None."""
    return None if seconds is None else datetime.fromtimestamp(float(seconds), UTC).isoformat()


def with_iso(data: dict[str, Any], *fields: str) -> dict[str, Any]:
    """``data`` with each of ``fields`` (epoch seconds, when numeric) as ISO 8601 UTC."""
    converted = dict(data)
    for name in fields:
        value = converted.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            converted[name] = iso_utc(value)
    return converted
