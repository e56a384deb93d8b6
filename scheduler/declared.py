"""Code-declared schedules (``@task(..., schedule=...)`` / ``declare(...)``) synced into the task store.

Every declaration becomes the task ``declared-<name>`` (see :func:`task_id`): a stable id, so a restart, or several web and
scheduler processes syncing at once, update one task instead of creating copies. A declaration whose
definition changed is updated in place (its history and counters stay); a task of source ``declared``
that no longer has a declaration is deleted. ``SCHEDULE_<NAME>=...`` overrides a declared schedule and
``SCHEDULE_<NAME>=off`` removes it. ``@after`` schedules (``@Timeout``) are planned afresh after each
sync unless a run is already pending.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from rq.utils import as_text

from jobs import keys
from jobs.registry import DeclaredSchedule, TaskRegistry
from jobs.settings import Settings
from scheduler.cron import ScheduleError
from scheduler.store import NameTaken, TaskStore
from scheduler.tasks import Definition, ms

log = logging.getLogger("taskyard.scheduler.declared")

SYNC_LOCK_TTL = 30  # seconds; a sync takes milliseconds, the TTL only guards against a crashed holder


@dataclass(frozen=True)
class SyncReport:
    created: list[str]
    updated: list[str]
    removed: list[str]
    skipped: list[str]


def task_id(declared: DeclaredSchedule) -> str:
    """``declared-<name>`` with characters RQ refuses in job ids (``.`` among them) as ``-``."""
    return "declared-" + re.sub(r"[^A-Za-z0-9_-]", "-", declared.name)


def definition_of(declared: DeclaredSchedule, schedule: str) -> Definition:
    return Definition(
        name=declared.name,
        handler=declared.task,
        schedule=schedule,
        description=declared.description,
        params=dict(declared.params),
        timezone=declared.timezone,
        recurring=not schedule.strip().lower().startswith(("@after", "now")),
        allow_overlap=declared.allow_overlap,
        source="declared",
        max_interval=round(declared.max_interval * 1000) if declared.max_interval else 0,
    )


def sync(connection: Redis, tasks: TaskRegistry, settings: Settings, now: datetime) -> SyncReport | None:
    """Make the stored declared tasks match the code; None when another process is syncing right now."""
    lock = connection.lock(keys.SCHED_SYNC_LOCK, timeout=SYNC_LOCK_TTL, blocking_timeout=0)
    if not lock.acquire(blocking=False):
        return None
    try:
        return _sync(TaskStore(connection, settings.scheduler.missed_grace), tasks, settings, now)
    finally:
        lock.release()


def _sync(store: TaskStore, tasks: TaskRegistry, settings: Settings, now: datetime) -> SyncReport:
    report = SyncReport([], [], [], [])
    wanted: set[str] = set()
    for declared in tasks.declared_schedules():
        schedule = settings.scheduler.overrides.get(declared.override_variable, declared.schedule)
        if schedule.lower() == "off":
            continue
        definition = definition_of(declared, schedule)
        try:
            definition.parsed(now)
        except ScheduleError as error:
            log.error("declared schedule %s skipped: %s", declared.name, error)
            report.skipped.append(declared.name)
            continue
        tid = task_id(declared)
        wanted.add(tid)
        existing = store.get(tid)
        try:
            if existing is None:
                store.create(definition, now, task_id=tid)
                report.created.append(declared.name)
            elif existing.definition != definition:
                store.update(existing, definition, now)
                report.updated.append(declared.name)
            elif not definition.recurring and existing.next_run is None and existing.status != "paused":
                store.set_fields(tid, anchor=str(ms(now)))  # @after counts from this start
                store.resume(store.get(tid) or existing, now)
        except NameTaken:
            log.error("declared schedule %s skipped: an API task already has that name", declared.name)
            report.skipped.append(declared.name)
    stale_ids = {
        as_text(member) for member, _ in store.connection.zscan_iter(keys.SCHED_ALL, match="declared-*")
    }
    for task in store.get_many(sorted(stale_ids - wanted)):
        if task.definition.source == "declared":
            store.delete(task)
            report.removed.append(task.definition.name)
    if report.created or report.updated or report.removed:
        log.info(
            "declared schedules: created %s, updated %s, removed %s",
            report.created,
            report.updated,
            report.removed,
        )
    return report
