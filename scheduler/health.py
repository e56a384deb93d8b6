"""Missed-schedule monitoring: a recurring task that has not completed within its period plus a grace.

Every recurring task has a deadline in the ``SCHED_EXPECTED`` sorted set: its first planned run (or its
last success) plus one period plus ``MISSED_SCHEDULE_GRACE``, or plus the task's own ``maxInterval``
when it declares one. A success moves the deadline on; pausing
or deleting removes it. Tasks whose deadline has passed are missed — finding them reads only those
entries, never every task. The scheduler leader hands them to :func:`jobs.maintenance.alerts.alert_missed`, which
logs and delivers one alert per task per ``ALERT_WINDOW``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis import Redis

from jobs import keys
from jobs.connection import scored
from scheduler.cron import Schedule


def deadline(
    schedule: Schedule, start: datetime, grace: float, window: float | None = None
) -> datetime | None:
    """When a task planned (or last successful) at ``start`` counts as missed; None if it never does.

    ``window`` (seconds) is a task's own allowance, the design notes' per-job maximum interval (25 h for
    a daily job): it replaces one period plus the global grace."""
    period = schedule.period(start)
    if period is None:
        return None
    if window:
        return start + timedelta(seconds=window)
    return start + period + timedelta(seconds=grace)


def expect(connection: Redis, task_id: str, by: datetime | None) -> None:
    """Record (or with ``by=None`` remove) the deadline of a task's next success."""
    if by is None:
        connection.zrem(keys.SCHED_EXPECTED, task_id)
    else:
        connection.zadd(keys.SCHED_EXPECTED, {task_id: by.timestamp()})


def missed(connection: Redis, now: datetime, limit: int = 1000) -> list[tuple[str, datetime]]:
    """(task id, deadline) of every task past its deadline, most overdue first."""
    found = connection.zrangebyscore(
        keys.SCHED_EXPECTED, "-inf", now.timestamp(), start=0, num=limit, withscores=True
    )
    return [(task_id, datetime.fromtimestamp(score, UTC)) for task_id, score in scored(found)]
