"""Durations in the environment, written the way the design notes write them.

The notes configure Bull (``JOB_RETRY_DELAY=5000``) and scheduled tasks (``"retryDelay": 300000``)
in **milliseconds**, so a bare number here is milliseconds too. A unit makes the value unambiguous:
``5000ms``, ``5s``, ``1.5s``, ``1m``, ``2h`` (one unit per value). :func:`bare_number_warning` flags a bare
number that looks like it was meant in seconds (``JOB_RETRY_DELAY=60`` is 60 ms, which is rarely meant):
every process prints it once at start.
"""

from __future__ import annotations

import re

UNITS_MS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
SECONDS_LOOKING = 100  # a bare number below this many ms was probably meant in seconds


def parse_ms(raw: str) -> float:
    """Milliseconds in ``raw`` (``5000``, ``5000ms``, ``5s``, ``1m``, ``2h``); ValueError otherwise."""
    match = _DURATION.match(raw)
    if not match:
        raise ValueError(f"expected milliseconds or a duration such as 5000ms, 5s or 1m, got {raw!r}")
    number, unit = match.groups()
    return float(number) * UNITS_MS[(unit or "ms").lower()]


def bare_number_warning(name: str, raw: str | None) -> str | None:
    """A one-line warning when ``raw`` is a bare number small enough to have been meant in seconds."""
    if raw is None:
        return None
    match = _DURATION.match(raw)
    if not match or match.group(2):
        return None
    value = float(match.group(1))
    if not 0 < value < SECONDS_LOOKING:
        return None
    shown = match.group(1)
    return (
        f"{name}={shown} is read as {shown} milliseconds (a bare number is milliseconds, as in the "
        f"design notes); write {shown}s if you meant seconds"
    )
