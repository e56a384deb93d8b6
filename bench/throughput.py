"""Enqueue and processing throughput: Taskyard's API and worker beside plain RQ's."""

from __future__ import annotations

import time

from redis import Redis
from rq import Queue
from rq.registry import FinishedJobRegistry

from bench.common import spawn, stop, table, wait_until
from jobs.enqueue import JobRequest, enqueue
from jobs.registry import load_tasks
from jobs.settings import load_settings

NOOP = "jobs.builtin.system.noop"


def enqueue_rates(connection: Redis, url: str, count: int) -> str:
    """Jobs/s enqueuing ``count`` no-op jobs through our Python API and through ``Queue.enqueue``."""
    load_tasks()
    settings = load_settings({"REDIS_URL": url})
    queue = Queue("default", connection=connection)
    rows = []
    for label, one in (
        ("plain rq Queue.enqueue", lambda: queue.enqueue(NOOP)),
        ("taskyard jobs.enqueue.enqueue", lambda: enqueue(connection, settings, JobRequest("system.noop"))),
    ):
        connection.flushall()
        start = time.perf_counter()
        for _ in range(count):
            one()
        elapsed = time.perf_counter() - start
        rows.append((label, count, count / elapsed))
    return table(f"Enqueue, {count} jobs, one client", ("path", "jobs", "jobs/s"), rows)


def processing_rates(connection: Redis, url: str, count: int) -> str:
    """Jobs/s draining ``count`` queued no-op jobs with two of each kind of worker."""
    env = {"REDIS_URL": url, "JOB_CONCURRENCY": "2", "LOG_LEVEL": "WARNING"}
    contenders = {
        "plain `rq worker` x2 (forking)": [["-m", "rq.cli", "worker", "-u", url, "-q", "default"]] * 2,
        "plain `rq worker -w SimpleWorker` x2": [
            ["-m", "rq.cli", "worker", "-u", url, "-q", "-w", "rq.worker.SimpleWorker", "default"]
        ]
        * 2,
        "taskyard worker (Procfile, JOB_CONCURRENCY=2)": [["-m", "jobs.worker"]],
    }
    rows = []
    for label, commands in contenders.items():
        connection.flushall()
        queue = Queue("default", connection=connection)
        with connection.pipeline() as pipe:
            for _ in range(count):
                queue.enqueue(NOOP, pipeline=pipe, result_ttl=600)
            pipe.execute()
        finished = FinishedJobRegistry("default", connection=connection)
        processes = [spawn(cmd, env) for cmd in commands]
        try:
            wait_until(lambda q=queue: q.count < count, 60)  # workers are up and took the first job
            start_left = queue.count
            seconds = wait_until(lambda f=finished: f.count >= count, 600)
            rows.append((label, start_left, start_left / seconds))
        finally:
            stop(processes)
    return table(f"Processing no-op jobs, {count} queued", ("workers", "jobs timed", "jobs/s"), rows)
