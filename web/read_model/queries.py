"""The read model: how the API and the pages see jobs, queues, tasks and liveness.

Views read Redis only through these functions, so the REST API and the dashboard pages always agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.utils import as_text

from jobs.delayed import due_at
from jobs.enqueue import retry_policy
from jobs.registry import TaskRegistry
from jobs.settings import Settings
from jobs.worker.error_summary import SUMMARY_CHARS
from scheduler import delayed_jobs, rq_scheduler_jobs
from web.read_model.job_search import JobFilter, JobPage, search
from web.read_model.times import aware


def error_line(traceback: str | None) -> str | None:
    """A traceback's last non-blank line (``ValueError: boom``), cut to :data:`SUMMARY_CHARS`."""
    lines = [line for line in (traceback or "").strip().splitlines() if line.strip()]
    return lines[-1][:SUMMARY_CHARS] if lines else None


def error_summary(job: Job) -> str | None:
    """The error line of the job's latest failure (:func:`error_line`), else the summary the worker
    kept in ``meta['last_error']`` (a failure RQ kept no traceback for)."""
    result = job.latest_result()
    text = result.exc_string if result is not None else None
    if not text:
        last_error = job.meta.get("last_error")
        return str(last_error)[:SUMMARY_CHARS] if last_error else None
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
        "enqueued_at": aware(job.enqueued_at),
        "started_at": aware(job.started_at),
        "ended_at": aware(job.ended_at),
        "scheduled_for": scheduled_for,
        "progress": job.meta.get("progress"),
        "url": url,
    }


def _jsonable(value: Any) -> Any:
    """``value`` if it survives JSON, else its repr (a handler may return anything)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)[:SUMMARY_CHARS]
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


def dead_letter_view(job: Job) -> dict[str, Any]:
    """A failed job as the dead-letter page lists it."""
    return {
        "id": job.id,
        "task": job.meta.get("task") or job.func_name,
        "queue": job.origin,
        "error": error_summary(job),
        "attempts": attempts_made(job, JobStatus.FAILED),
        "ended_at": aware(job.ended_at),
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
