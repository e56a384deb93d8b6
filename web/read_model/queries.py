"""The read model: how the API and the pages see jobs, queues, tasks and liveness.

Views read Redis only through these functions, so the REST API and the dashboard pages always agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.utils import as_text

from jobs import keys
from jobs.delayed import due_at
from jobs.enqueue import retry_policy
from jobs.registry import TaskRegistry
from jobs.settings import Settings
from scheduler import delayed_jobs, rq_scheduler_jobs
from scheduler import health as scheduler_health
from scheduler.store import TaskStore
from web.read_model.job_search import JobFilter, JobPage, search

ERROR_SUMMARY_CHARS = 500  # the last line of a traceback, cut to this length


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def error_line(traceback: str | None) -> str | None:
    """A traceback's last non-blank line (``ValueError: boom``), cut to :data:`ERROR_SUMMARY_CHARS`."""
    lines = [line for line in (traceback or "").strip().splitlines() if line.strip()]
    return lines[-1][:ERROR_SUMMARY_CHARS] if lines else None


def error_summary(job: Job) -> str | None:
    """The error line of the job's latest failure (:func:`error_line`), else the summary the worker
    kept in ``meta['last_error']`` (a failure RQ kept no traceback for)."""
    result = job.latest_result()
    text = result.exc_string if result is not None else None
    if not text:
        last_error = job.meta.get("last_error")
        return str(last_error)[:ERROR_SUMMARY_CHARS] if last_error else None
    return error_line(text)


def attempts_made(job: Job, status: JobStatus) -> int:
    """Attempts so far: retries RQ has consumed, plus the current or final run."""
    max_retries = int(job.meta.get("max_retries", 0))
    consumed = max_retries - (job.retries_left if job.retries_left is not None else max_retries)
    ran = status in (JobStatus.STARTED, JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED)
    return consumed + (1 if ran else 0)


def job_view(job: Job, url: str) -> dict[str, Any]:
    """A job as the API and the pages show it."""
    status = job.get_status(refresh=False)
    attempts = attempts_made(job, status)
    scheduled_for = None
    if status == JobStatus.SCHEDULED:
        registry = ScheduledJobRegistry(job.origin, connection=job.connection)
        score = job.connection.zscore(registry.key, job.id)
        scheduled_for = datetime.fromtimestamp(due_at(score), UTC) if score is not None else None
    if scheduled_for is None and (status == JobStatus.SCHEDULED or rq_scheduler_jobs.recurring(job)):
        scheduled_for = rq_scheduler_jobs.due_for(job.connection, job)
    result = job.return_value(refresh=False) if status == JobStatus.FINISHED else None
    return {
        "id": job.id,
        "task": job.meta.get("task"),
        "queue": job.origin,
        "status": str(status.value if isinstance(status, JobStatus) else status),
        "args": _jsonable(list(job.args)),
        "kwargs": _jsonable(dict(job.kwargs)),
        "result": _jsonable(result),
        "error": error_summary(job) if status in (JobStatus.FAILED, JobStatus.SCHEDULED) else None,
        "attempts": attempts,
        "retries_left": job.retries_left,
        "enqueued_at": _aware(job.enqueued_at),
        "started_at": _aware(job.started_at),
        "ended_at": _aware(job.ended_at),
        "scheduled_for": scheduled_for,
        "progress": job.meta.get("progress"),
        "url": url,
    }


def _jsonable(value: Any) -> Any:
    """``value`` if it survives JSON, else its repr (a handler may return anything)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)[:ERROR_SUMMARY_CHARS]
    return value


def queue_counts(
    connection: Redis, name: str, rq_scheduler: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Jobs per state in one queue, from RQ's own registries, in one round trip. ``scheduled`` counts
    RQ's delayed jobs and rq-scheduler's entries for the queue (``rq_scheduler``: the counts of
    :func:`scheduler.rq_scheduler_jobs.count_by_queue`, read once for many queues)."""
    if rq_scheduler is None:
        rq_scheduler = rq_scheduler_jobs.count_by_queue(connection)
    queue = Queue(name, connection=connection)
    registries = [
        StartedJobRegistry(name, connection=connection),
        FinishedJobRegistry(name, connection=connection),
        FailedJobRegistry(name, connection=connection),
        DeferredJobRegistry(name, connection=connection),
        ScheduledJobRegistry(name, connection=connection),
    ]
    with connection.pipeline() as pipe:
        pipe.llen(queue.key)
        for registry in registries:
            pipe.zcard(registry.key)
        queued, started, finished, failed, deferred, scheduled = pipe.execute()
    return {
        "name": name,
        "queued": queued,
        "started": started,
        "finished": finished,
        "failed": failed,
        "deferred": deferred,
        "scheduled": scheduled + rq_scheduler.get(name, 0),
    }


def queue_listing(connection: Redis, settings: Settings) -> list[dict[str, Any]]:
    """Counts for every configured queue, then for any other queue holding queued or delayed jobs: no
    worker listens there unless one is started for it, and the scheduler still moves its delayed jobs."""
    by_queue = rq_scheduler_jobs.count_by_queue(connection)
    names = list(settings.worker.queues)
    others = sorted((set(delayed_jobs.queue_names(connection)) | set(by_queue)) - set(names))
    listing = [queue_counts(connection, name, by_queue) for name in names]
    for name in others:
        counts = queue_counts(connection, name, by_queue)
        if counts["queued"] or counts["scheduled"]:
            listing.append(counts)
    return listing


def task_views(tasks: TaskRegistry, settings: Settings) -> list[dict[str, Any]]:
    """The registry as data (no functions)."""
    views = []
    for spec in tasks:
        policy = retry_policy(spec, settings)
        views.append(
            {
                "name": spec.name,
                "queue": spec.queue,
                "timeout": spec.timeout or settings.worker.job_timeout,
                "max_retries": policy.max_retries,
                "retry_delays": policy.schedule(rand=lambda: 0.5),
                "description": spec.description,
            }
        )
    return views


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
                "last_heartbeat": _aware(worker.last_heartbeat),
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


def dead_letter_view(job: Job) -> dict[str, Any]:
    """A failed job as the dead-letter page lists it."""
    return {
        "id": job.id,
        "task": job.meta.get("task") or job.func_name,
        "queue": job.origin,
        "error": error_summary(job),
        "attempts": attempts_made(job, JobStatus.FAILED),
        "ended_at": _aware(job.ended_at),
        "requeued_at": job.meta.get("requeued_at"),
    }


def failed_jobs_page(
    connection: Redis, queue_names: tuple[str, ...], page: int, per_page: int
) -> dict[str, Any]:
    """One page of failed jobs across ``queue_names`` (queue by queue, newest first within a queue).

    Reads only the ids of the page (ZREVRANGE with offsets), so it stays fast with 100,000 failures.
    """
    registries = [FailedJobRegistry(name, connection=connection) for name in queue_names]
    with connection.pipeline() as pipe:
        for registry in registries:
            pipe.zcard(registry.key)
        counts = pipe.execute()
    total = sum(counts)
    offset = (page - 1) * per_page
    wanted: list[str] = []
    for registry, count in zip(registries, counts, strict=True):
        if len(wanted) >= per_page:
            break
        if offset >= count:
            offset -= count
            continue
        take = per_page - len(wanted)
        ids = connection.zrevrange(registry.key, offset, offset + take - 1)
        wanted.extend(as_text(i) for i in ids)  # type: ignore[arg-type]
        offset = 0
    jobs = [job for job in Job.fetch_many(wanted, connection=connection) if job is not None]
    return {
        "items": [dead_letter_view(job) for job in jobs],
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def list_jobs(connection: Redis, flt: JobFilter, limit: int, cursor: str | None = None) -> JobPage:
    """A page of jobs matching ``flt``, newest first, with the next page's cursor (:mod:`web.read_model.job_search`
    holds the sources, cursors and merge; this is the read model's door to it)."""
    return search(connection, flt, limit, cursor)
