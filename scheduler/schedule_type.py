"""How the design note for scheduled tasks classifies a schedule: ``scheduleType`` and ``period``.

The note's clients read ``scheduleType`` and, for the note's recurring shapes, ``period``:

- ``now``: runs once, at creation; ``once``: a datetime or ``@after``;
- ``interval``: ``@every``;
- ``recurring``: a cron expression of one of the note's shapes, with ``period`` naming it:
  ``hourly`` (``30 * * * *``), ``daily`` (``0 8 * * *``), ``weekly`` (``0 9 * * 1``) or ``monthly``
  (``0 0 1 * *``); the ``@nestjs/schedule`` constants with those shapes (``EVERY_HOUR``) count too;
- ``cron``: any other cron expression (``period`` is null).
"""

from __future__ import annotations

from scheduler.cron import Schedule

PERIODS = ("hourly", "daily", "weekly", "monthly")


def _fixed(field: str) -> bool:
    """A single value or a list of values (``1``, ``1,3``), not a wildcard, range or step."""
    return all(part.isdigit() for part in field.split(","))


def period_of(schedule: Schedule) -> str | None:
    """``hourly``/``daily``/``weekly``/``monthly`` when the cron has that shape, else None."""
    if schedule.kind != "cron" or schedule.cron is None:
        return None
    fields = schedule.cron.split()
    if len(fields) == 6:
        if fields[0] != "0":
            return None  # runs at a second other than :00, or several times a minute
        fields = fields[1:]
    minute, hour, dom, month, dow = fields
    if not minute.isdigit() or month != "*":
        return None
    if hour == "*" and dom == "*" and dow == "*":
        return "hourly"
    if not hour.isdigit():
        return None
    if dom == "*" and dow == "*":
        return "daily"
    if dom == "*" and _fixed(dow):
        return "weekly"
    if _fixed(dom) and dow == "*":
        return "monthly"
    return None


def schedule_type(schedule: Schedule) -> str:
    """``now``, ``once``, ``interval``, ``recurring`` or ``cron`` (see the module docstring)."""
    if schedule.kind == "once":
        return "now" if schedule.expression.strip().lower() == "now" else "once"
    if schedule.kind == "interval":
        return "interval"
    return "recurring" if period_of(schedule) else "cron"
