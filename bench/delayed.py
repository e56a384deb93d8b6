"""Delayed-job precision under Taskyard's scheduler process: jobs delayed through our API (the path of
``POST /api/v1/jobs`` with ``run_at``/``delay_seconds``, our tasks' retries and OAuth refreshes), plain
RQ's ``Queue.enqueue_at`` and rq-scheduler's ``Scheduler.enqueue_at``.

Lateness is an RQ job's ``enqueued_at`` (set when the scheduler moves it) minus the moment the caller
asked for; negative is early. No worker runs, so the figures are the scheduler's alone.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime

from redis import Redis
from rq import Queue
from rq.job import Job
from rq_scheduler import Scheduler

from bench.common import percentile, spawn, stop, table, wait_until
from jobs.enqueue import JobRequest, enqueue
from jobs.registry import load_tasks
from jobs.settings import load_settings

NOOP = "jobs.builtin.system.noop"


def _lateness(connection: Redis) -> list[float]:
    ids = [i.decode() for i in connection.lrange("rq:queue:default", 0, -1)]
    found = []
    for job in Job.fetch_many(ids, connection=connection):
        if job is not None and job.enqueued_at is not None and "due" in job.meta:  # not a declared task
            found.append((job.enqueued_at.timestamp() - float(job.meta["due"])) * 1000)
    return found


def _waiting(connection: Redis) -> int:
    """Delayed jobs not moved yet (cheap to poll: polling must not steal the scheduler's CPU)."""
    return int(connection.zcard("rq:scheduled:default")) + int(connection.zcard(Scheduler.scheduled_jobs_key))


def _measure(
    connection: Redis, url: str, count: int, spread: float, schedule: Callable[[float], None]
) -> list[float]:
    connection.flushall()
    start = time.time() + 2
    for _ in range(count):
        schedule(start + random.random() * spread)
    process = spawn(["-m", "scheduler"], {"REDIS_URL": url, "LOG_LEVEL": "WARNING"})
    try:
        wait_until(lambda: _waiting(connection) == 0, spread + 30)
    finally:
        stop([process])
    return _lateness(connection)


def delayed_lateness(connection: Redis, url: str, count: int = 500, spread: float = 10.0) -> str:
    """``count`` delayed jobs due at random moments over ``spread`` seconds, per way of delaying."""
    load_tasks()
    settings = load_settings({"REDIS_URL": url})
    queue = Queue("default", connection=connection)
    client = Scheduler(queue_name="default", connection=connection)

    def ours(due: float) -> None:
        when = datetime.fromtimestamp(due, UTC)
        enqueue(connection, settings, JobRequest("system.noop", run_at=when, meta={"due": due}))

    def plain_rq(due: float) -> None:
        queue.enqueue_at(datetime.fromtimestamp(due, UTC), NOOP, meta={"due": due})

    def rq_scheduler(due: float) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.enqueue_at(datetime.fromtimestamp(due, UTC), NOOP, meta={"due": due})

    rows = []
    for label, schedule in (
        ("Taskyard `enqueue(run_at=...)` (the API's path)", ours),
        ("plain RQ `Queue.enqueue_at` (whole seconds)", plain_rq),
        ("rq-scheduler `enqueue_at` (whole seconds)", rq_scheduler),
    ):
        samples = _measure(connection, url, count, spread, schedule)
        early = sum(1 for s in samples if s < 0)
        rows.append((label, f"{len(samples)}/{count}", percentile(samples, 50), percentile(samples, 99),
                     max(samples, default=float("nan")), min(samples, default=float("nan")), early))  # fmt: skip
    header = ("delayed through", "moved", "p50 ms", "p99 ms", "max ms", "min ms", "early")
    return table(f"Delayed jobs under our scheduler: {count} due over {spread:.0f} s, each way", header, rows)
