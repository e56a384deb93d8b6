""" "Is everything OK?": the read model behind the overview page.

Rates come from the per-minute buckets :mod:`jobs.metrics` keeps (enqueued / finished / failed, a day
of them); queue latency is the age of the oldest job waiting at the head of each queue's list; busy
workers are RQ's worker registrations with their current job; recent failures are the newest entries of
RQ's failed registries grouped by task. Every read is bounded (no scan of all jobs).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.utils import as_text

from jobs.metrics import RATE_EVENTS, read_minutes
from web.read_model.liveness import worker_heartbeats
from web.read_model.queries import error_summary
from web.read_model.times import aware

RECENT_FAILURES = 500  # newest failures per queue grouped on the overview


def rates(connection: Redis, now: datetime) -> dict[str, Any]:
    """Jobs per minute over the last hour (60 points) and per hour over the last day (24 points)."""
    this_minute = int(now.timestamp() // 60)
    minutes = read_minutes(connection, this_minute - 24 * 60 + 1, this_minute)
    hour: list[dict[str, Any]] = []
    for minute in range(this_minute - 59, this_minute + 1):
        counts = minutes.get(minute, {})
        hour.append(
            {"at": datetime.fromtimestamp(minute * 60, UTC), **{e: counts.get(e, 0) for e in RATE_EVENTS}}
        )
    day: list[dict[str, Any]] = []
    for start in range(this_minute - 24 * 60 + 1, this_minute + 1, 60):
        total: Counter[str] = Counter()
        for minute in range(start, start + 60):
            total.update(minutes.get(minute, {}))
        day.append(
            {"at": datetime.fromtimestamp(start * 60, UTC), **{e: total.get(e, 0) for e in RATE_EVENTS}}
        )
    last_hour = {e: sum(int(p[e]) for p in hour) for e in RATE_EVENTS}
    last_day = {e: sum(int(p[e]) for p in day) for e in RATE_EVENTS}
    return {"hour": hour, "day": day, "last_hour": last_hour, "last_day": last_day}


def queue_latency(connection: Redis, queue_names: tuple[str, ...], now: datetime) -> list[dict[str, Any]]:
    """Per queue: jobs waiting, and how long the oldest has waited (None when the queue is empty)."""
    queues = [Queue(name, connection=connection) for name in queue_names]
    with connection.pipeline() as pipe:
        for queue in queues:
            pipe.llen(queue.key)
            pipe.lindex(queue.key, 0)
        raw = pipe.execute()
    heads = [as_text(raw[i * 2 + 1]) if raw[i * 2 + 1] else None for i in range(len(queues))]
    present = [h for h in heads if h]
    jobs = dict(zip(present, Job.fetch_many(present, connection=connection), strict=True))
    rows = []
    for i, queue in enumerate(queues):
        head = heads[i]
        job = jobs.get(head) if head else None
        enqueued = aware(job.enqueued_at) if job is not None else None
        rows.append(
            {
                "name": queue.name,
                "queued": int(raw[i * 2]),
                "oldest_id": head,
                "oldest_enqueued_at": enqueued,
                "latency": (now - enqueued).total_seconds() if enqueued else None,
            }
        )
    return rows


def busy_workers(connection: Redis, now: datetime) -> list[dict[str, Any]]:
    """Workers running a job: the job, its task and how long it has been running."""
    workers = [w for w in worker_heartbeats(connection) if w["current_job"]]
    jobs = Job.fetch_many([w["current_job"] for w in workers], connection=connection)
    rows = []
    for worker, job in zip(workers, jobs, strict=True):
        started = aware(job.started_at) if job is not None else None
        rows.append(
            {
                "name": worker["name"],
                "job_id": worker["current_job"],
                "task": (job.meta.get("task") or job.func_name) if job is not None else None,
                "queue": job.origin if job is not None else None,
                "running_for": (now - started).total_seconds() if started else None,
            }
        )
    return rows


def failures_by_task(connection: Redis, queue_names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The newest :data:`RECENT_FAILURES` failures of each queue grouped by task, most failures first:
    count, latest time, latest error line and that job's id."""
    with connection.pipeline() as pipe:
        for name in queue_names:
            pipe.zrevrange(FailedJobRegistry(name, connection=connection).key, 0, RECENT_FAILURES - 1)
        ids = [as_text(i) for chunk in pipe.execute() for i in chunk]
    groups: dict[str, dict[str, Any]] = {}
    for job in Job.fetch_many(ids, connection=connection):
        if job is None:
            continue
        task = job.meta.get("task") or job.func_name or "?"
        ended = aware(job.ended_at)
        group = groups.setdefault(
            task, {"task": task, "count": 0, "last_at": None, "last_error": None, "last_id": None}
        )
        group["count"] += 1
        if ended and (group["last_at"] is None or ended > group["last_at"]):
            group.update(last_at=ended, last_error=error_summary(job), last_id=job.id)
    return sorted(groups.values(), key=lambda g: (-g["count"], g["task"]))


def chart(points: list[dict[str, Any]], width: int = 600, height: int = 60) -> dict[str, Any]:
    """Bars for an inline SVG (finished stacked with failed): coordinates only, no styles."""
    top = max((p["finished"] + p["failed"] for p in points), default=0) or 1
    step = width / max(1, len(points))
    bars = []
    for i, point in enumerate(points):
        done = point["finished"] * height / top
        bad = point["failed"] * height / top
        bars.append(
            {
                "x": round(i * step, 2),
                "w": round(max(step - 1, 1), 2),
                "ok_y": round(height - done, 2),
                "ok_h": round(done, 2),
                "bad_y": round(height - done - bad, 2),
                "bad_h": round(bad, 2),
                "label": f"{point['at']:%H:%M} UTC: {point['finished']} finished, {point['failed']} failed",
            }
        )
    return {"width": width, "height": height, "bars": bars, "top": top}
