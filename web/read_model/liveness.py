"""Liveness as the API and the pages read it: workers' and schedulers' heartbeats, the one rule that
judges them (:func:`is_alive`), missed schedules, and the health verdict built from all three.

Workers beat through RQ (their worker hash); schedulers through ``scheduler/liveness.py``'s report.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from redis import Redis
from redis.exceptions import ResponseError
from rq import Queue, Worker
from rq.registry import ScheduledJobRegistry
from rq.utils import as_text

from jobs import keys
from jobs.settings import Settings
from scheduler import delayed_jobs, rq_scheduler_jobs
from scheduler import health as scheduler_health
from scheduler.store import TaskStore
from web.errors import is_out_of_memory
from web.read_model.times import aware


def worker_heartbeats(connection: Redis) -> list[dict[str, Any]]:
    """Every RQ worker that has registered, with its last heartbeat and current job."""
    views = []
    for worker in Worker.all(connection=connection):
        job_id = worker.get_current_job_id()
        views.append(
            {
                "name": worker.name,
                "state": str(worker.get_state()),
                "queues": worker.queue_names(),
                "last_heartbeat": aware(worker.last_heartbeat),
                "current_job": job_id,
                "pid": worker.pid,
            }
        )
    return views


def is_alive(last_heartbeat: datetime | float | None, now: datetime, settings: Settings) -> bool:
    """The liveness rule for workers and schedulers alike: a heartbeat (an aware datetime, or epoch
    seconds) no older than ``HEARTBEAT_STALE``. Never beating is not alive."""
    if last_heartbeat is None:
        return False
    at = last_heartbeat.timestamp() if isinstance(last_heartbeat, datetime) else float(last_heartbeat)
    return now.timestamp() - at <= settings.process.heartbeat_stale


def alive_workers(connection: Redis, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """The workers of :func:`worker_heartbeats` that are alive (:func:`is_alive`)."""
    return [w for w in worker_heartbeats(connection) if is_alive(w["last_heartbeat"], now, settings)]


def alive_schedulers(connection: Redis, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """The schedulers of :func:`scheduler_heartbeats` that are alive (:func:`is_alive`)."""
    return [s for s in scheduler_heartbeats(connection) if is_alive(s["at"], now, settings)]


def scheduler_heartbeats(connection: Redis) -> list[dict[str, Any]]:
    """Scheduler processes' last reports (written by scheduler.engine each pass)."""
    leader = connection.get(keys.SCHEDULER_LEADER)
    leader_name = as_text(leader) if leader else None
    views = []
    for name, raw in connection.hgetall(keys.SCHEDULER_HEARTBEATS).items():
        report = json.loads(raw)
        report["name"] = as_text(name)
        report["leader"] = report["name"] == leader_name
        views.append(report)
    return sorted(views, key=lambda r: r["name"])


def delayed_job_count(connection: Redis, queue_names: tuple[str, ...]) -> int:
    """Jobs waiting in any ScheduledJobRegistry or in rq-scheduler's store: they need a scheduler."""
    with connection.pipeline() as pipe:
        for name in queue_names:
            pipe.zcard(ScheduledJobRegistry(name, connection=connection).key)
        pipe.zcard(rq_scheduler_jobs.SCHEDULED_JOBS)
        return sum(pipe.execute())


def missed_schedules(connection: Redis, now: datetime) -> list[dict[str, Any]]:
    """Recurring scheduled tasks past their deadline (scheduler/health.py), most overdue first."""
    overdue = scheduler_health.missed(connection, now)
    tasks = {t.id: t for t in TaskStore(connection).get_many([task_id for task_id, _ in overdue])}
    return [
        {
            "id": task_id,
            "name": tasks[task_id].definition.name,
            "deadline": deadline.isoformat(),
            "lastSuccessAt": tasks[task_id].last_success_at,
        }
        for task_id, deadline in overdue
        if task_id in tasks
    ]


def health(connection: Redis, settings: Settings, now: datetime) -> dict[str, Any]:
    """Liveness of Redis, workers and schedulers, and what is missing.

    Raises Redis errors when Redis is down; the caller turns that into a 503.
    """
    info = connection.info("memory")
    memory = info.get("used_memory_human", "?")
    live_workers = alive_workers(connection, settings, now)
    live_schedulers = alive_schedulers(connection, settings, now)
    problems = []
    queued = sum(connection.llen(Queue(name, connection=connection).key) for name in settings.worker.queues)
    if not live_workers:
        problems.append(f"no worker is running: {queued} queued jobs will not run until one starts")
    if not live_schedulers:
        names = tuple(sorted(set(settings.worker.queues) | set(delayed_jobs.queue_names(connection))))
        delayed = delayed_job_count(connection, names)
        problems.append(
            f"no scheduler is running: {delayed} delayed jobs and retries, and every schedule, "
            "wait until one starts"
        )
    for task in missed_schedules(connection, now):
        problems.append(f"task {task['name']} missed its schedule (deadline {task['deadline']})")
    return {
        "status": "ok" if not problems else "degraded",
        "redis": {"ok": True, "detail": f"used memory {memory}"},
        "workers": live_workers,
        "schedulers": live_schedulers,
        "problems": problems,
    }


def health_verdict(connection: Redis, settings: Settings, now: datetime) -> dict[str, Any]:
    """:func:`health` for a page: a Redis that refuses INFO (fakeredis, some managed services) leaves
    the verdict ``unknown`` instead of failing the whole page. Out of memory is still an error."""
    try:
        return health(connection, settings, now)
    except ResponseError as error:
        if is_out_of_memory(error):
            raise
        return {"status": "unknown", "problems": [f"health unknown: Redis refused INFO ({error})"]}


def scheduler_reports(connection: Redis, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Every scheduler's report with its ``age`` in seconds and whether it is ``alive``."""
    reports = scheduler_heartbeats(connection)
    for report in reports:
        report["age"] = round(now.timestamp() - float(report["at"]), 1)
        report["alive"] = is_alive(report["at"], now, settings)
    return reports


def worker_reports(connection: Redis, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Every registered worker with whether it is ``alive``."""
    reports = worker_heartbeats(connection)
    for report in reports:
        report["alive"] = is_alive(report["last_heartbeat"], now, settings)
    return reports
