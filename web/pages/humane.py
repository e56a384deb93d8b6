"""Times for people: "3 min ago", "in 12 s", "1 h 4 min", with the exact UTC time on hover.

Jinja filters (registered by :func:`web.pages.init_app`): ``when`` renders a ``<time>`` element whose
text is relative and whose ``title`` and ``datetime`` are the exact ISO 8601 UTC time; ``duration``
renders seconds. Inputs may be aware datetimes, ISO strings, or epoch milliseconds (the scheduler's
unit); a raw epoch never reaches a page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape


def to_datetime(value: Any) -> datetime | None:
    """An aware datetime from a datetime, an ISO string or epoch milliseconds; None if it is none."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def duration(seconds: float | None) -> str:
    """``0.35 s``, ``12 s``, ``4 min 5 s``, ``2 h 3 min``, ``3 d 4 h``; ``-`` for none."""
    if seconds is None:
        return "-"
    seconds = abs(seconds)
    if seconds < 10:
        return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def relative(moment: datetime, now: datetime) -> str:
    """``3 min ago`` or ``in 12 s`` (``just now`` within a second)."""
    delta = (moment - now).total_seconds()
    if abs(delta) < 1:
        return "just now"
    text = duration(abs(delta)) if abs(delta) >= 10 else f"{int(abs(delta))} s"
    return f"in {text}" if delta > 0 else f"{text} ago"


def when(value: Any, now: datetime | None = None) -> Markup:
    """A ``<time>`` element: relative text, exact UTC time as ``title`` and ``datetime``."""
    moment = to_datetime(value)
    if moment is None:
        return Markup("-")
    exact = moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    text = relative(moment, now or datetime.now(UTC))
    return Markup(f'<time datetime="{escape(exact)}" title="{escape(exact)}">{escape(text)}</time>')
