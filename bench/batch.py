"""Bulk enqueue: ``POST /api/v1/jobs/batch`` on the real web process beside RQ's ``Queue.enqueue_many``.

Every path enqueues ``count`` no-op jobs in groups of 1,000 (one pipeline each): RQ's own
``enqueue_many``, our Python bulk path (:func:`jobs.enqueue_batch.enqueue_batch`: task registry, retry
policy, metrics) and the REST endpoint (JSON parsing, validation per item, the response with every job),
one client, over loopback.
"""

from __future__ import annotations

import time

import requests
from redis import Redis
from rq import Queue

from bench.common import TOKEN, start_web, stop, table
from jobs.enqueue import JobRequest
from jobs.enqueue_batch import enqueue_batch
from jobs.local.redis_server import free_port
from jobs.registry import load_tasks
from jobs.settings import load_settings

NOOP = "jobs.builtin.system.noop"
GROUP = 1000  # jobs per pipeline / per request (the endpoint's maximum)


def batch_rates(connection: Redis, url: str, count: int = 20_000) -> str:
    """Jobs/s through each bulk path, ``count`` jobs in groups of :data:`GROUP`."""
    load_tasks()
    settings = load_settings({"REDIS_URL": url})
    queue = Queue("default", connection=connection)
    groups = range(0, count, GROUP)

    def rq_many() -> None:
        for _ in groups:
            with connection.pipeline() as pipe:
                queue.enqueue_many([Queue.prepare_data(NOOP) for _ in range(GROUP)], pipeline=pipe)
                pipe.execute()

    def ours() -> None:
        for _ in groups:
            enqueue_batch(connection, settings, [JobRequest("system.noop")] * GROUP)

    port = free_port()
    process = start_web(url, port)
    session = requests.Session()
    body = {"jobs": [{"task": "system.noop"}] * GROUP}

    def rest() -> None:
        for _ in groups:
            response = session.post(
                f"http://127.0.0.1:{port}/api/v1/jobs/batch",
                json=body,
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=120,
            )
            assert response.status_code == 200 and response.json()["enqueued"] == GROUP, response.text[:300]

    rows = []
    try:
        for label, run in (
            ("plain rq Queue.enqueue_many", rq_many),
            ("taskyard jobs.enqueue_batch.enqueue_batch", ours),
            ("REST POST /api/v1/jobs/batch (web process)", rest),
        ):
            connection.flushall()
            began = time.perf_counter()
            run()
            elapsed = time.perf_counter() - began
            assert connection.llen(queue.key) == len(groups) * GROUP
            rows.append((label, len(groups) * GROUP, f"{len(groups) * GROUP / elapsed:,.0f}"))
    finally:
        stop([process])
        connection.flushall()
    return table(f"Bulk enqueue, groups of {GROUP:,}, one client", ("path", "jobs", "jobs/s"), rows)
