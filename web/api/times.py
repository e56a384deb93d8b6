"""One time format for /api/v1: ISO 8601 in UTC with its offset (``2026-12-02T14:05:00.123000+00:00``).

The stores keep epoch seconds (cheap to compare and to score in Redis); the API converts at its edge,
so no response carries an epoch number. The scheduler API under ``/admin/scheduler`` keeps its own
contract (epoch milliseconds) and does not use this module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer


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


def _from_epoch(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    return value


# A view-model field read from epoch seconds and answered as :func:`iso_utc` words it (the JSON schema
# stays ``date-time``: the conversions are validation and serialization steps, not types).
ApiTime = Annotated[
    datetime,
    BeforeValidator(_from_epoch),
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
]
