"""Scale: many queued jobs and scheduled tasks in one Redis, and whether reading them stays fast.

Jobs are enqueued in pipelines of 1,000 (``Queue.enqueue_many``) with what :func:`jobs.enqueue.enqueue`
writes for a ``system.echo`` job (task name and retry count in ``meta``, our timeouts and TTLs, a small
kwargs payload). Tasks are created through :meth:`scheduler.store.TaskStore.create` itself, from a few
threads: daily crons at varied times, half ``system.noop`` and half ``system.echo``, one in ten paused.
Then the real web process (``python -m web.server``) answers the list endpoints and the dashboard
pages over loopback (a logged-in session for the pages), and a scheduler pass (``Engine.tick`` with
nothing due) is timed before anything is stored and after. No worker or scheduler process runs.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from redis import Redis
from rq import Queue

from bench.common import TOKEN, percentile, start_web, stop, table
from jobs.connection import connect_url
from jobs.enqueue import retry_policy
from jobs.local.redis_server import free_port
from jobs.registry import load_tasks, registry
from jobs.settings import Settings, load_settings
from scheduler.engine import Engine
from scheduler.store import TaskStore
from scheduler.tasks import Definition

PIPELINE = 1000  # jobs per enqueue_many pipeline
CREATORS = 4  # threads creating tasks
REPEAT = 5  # requests per endpoint (the table shows their median and the slowest)


def _used_memory(connection: Redis) -> int:
    return int(connection.info("memory")["used_memory"])


def _timed(call: Callable[[], object], repeat: int = 20) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return percentile(samples, 50)


def enqueue_jobs(connection: Redis, settings: Settings, count: int) -> float:
    """Enqueue ``count`` system.echo jobs in pipelines; returns the seconds it took."""
    spec = registry.get("system.echo")
    policy = retry_policy(spec, settings)
    queue = Queue(spec.queue, connection=connection)
    began = time.perf_counter()
    for first in range(0, count, PIPELINE):
        datas = [
            Queue.prepare_data(
                spec.path,
                kwargs={"n": n},
                timeout=spec.timeout or settings.worker.job_timeout,
                result_ttl=settings.worker.result_ttl,
                failure_ttl=settings.worker.failure_ttl,
                description=spec.name,
                meta={"task": spec.name, "max_retries": policy.max_retries},
                retry=policy.to_rq(),
            )
            for n in range(first, min(first + PIPELINE, count))
        ]
        with connection.pipeline() as pipe:
            queue.enqueue_many(datas, pipeline=pipe)
            pipe.execute()
    return time.perf_counter() - began


def create_tasks(connection: Redis, count: int) -> tuple[float, list[str]]:
    """Create ``count`` tasks through the store from a few threads; returns seconds and their ids."""
    store = TaskStore(connection)
    now = datetime.now(UTC)

    def create(first: int) -> list[str]:
        ids = []
        for i in range(first, count, CREATORS):
            handler = "system.echo" if i % 2 else "system.noop"
            definition = Definition(f"report-{i:06d}", handler, f"{i % 60} {i % 24} * * *", params={"i": i})
            ids.append(store.create(definition, now, status="paused" if i % 10 == 0 else "active").id)
        return ids

    began = time.perf_counter()
    with ThreadPoolExecutor(CREATORS) as pool:
        ids = [task_id for chunk in pool.map(create, range(CREATORS)) for task_id in chunk]
    return time.perf_counter() - began, ids


class Browser:
    """A logged-in session against the real web process: bearer token for the API, cookie for pages."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        form = self.session.get(f"{base}/login", timeout=30).text
        match = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert match, "no CSRF field on the login page"
        response = self.session.post(
            f"{base}/login",
            data={"token": TOKEN, "csrf_token": match.group(1)},
            headers={"Origin": base},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 302, response.text[:500]

    def timed(self, path: str, api: bool) -> tuple[float, float, int]:
        """Median and slowest of :data:`REPEAT` GETs (ms), and the response size; fails on non-200."""
        headers = {"Authorization": f"Bearer {TOKEN}"} if api else {}
        samples, size = [], 0
        for _ in range(REPEAT):
            began = time.perf_counter()
            response = self.session.get(self.base + path, headers=headers, timeout=120)
            samples.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:300]}"
            size = len(response.content)
        return statistics.median(samples), max(samples), size


def endpoints(job_id: str, task_id: str, jobs: int, tasks: int) -> list[tuple[str, str, bool]]:
    """(label, path, is_api) of every read measured."""
    last = max(1, (tasks + 19) // 20)
    return [
        ("API: queues", "/api/v1/queues", True),
        ("API: one job", f"/api/v1/jobs/{job_id}", True),
        ("API: job list, newest first, all statuses", "/api/v1/jobs?limit=25", True),
        ("API: job list, status=queued, 100 a page", "/api/v1/jobs?status=queued&limit=100", True),
        ("API: job list, id_prefix (scan window)", f"/api/v1/jobs?id_prefix={job_id[:8]}", True),
        ("API: scheduled tasks, page 1", "/admin/scheduler?page=1&per_page=20", True),
        ("API: scheduled tasks, last page", f"/admin/scheduler?page={last}&per_page=20", True),
        ("API: scheduled tasks, status=paused", "/admin/scheduler?status=paused&per_page=20", True),
        (
            "API: scheduled tasks, handler=system.echo",
            "/admin/scheduler?handler=system.echo&per_page=20",
            True,
        ),
        ("API: scheduled tasks, name contains", "/admin/scheduler?name=report-00004&per_page=20", True),
        ("API: one scheduled task", f"/admin/scheduler/{task_id}", True),
        ("page: overview", "/dashboard/", False),
        ("page: health", "/dashboard/health", False),
        ("page: schedules, page 1", "/dashboard/schedules", False),
        ("page: schedules, last page", f"/dashboard/schedules?page={max(1, (tasks + 24) // 25)}", False),
        ("page: schedules, status=paused", "/dashboard/schedules?status=paused", False),
        ("page: schedules, search", "/dashboard/schedules?q=report-00004", False),
        ("page: one schedule", f"/dashboard/schedules/{task_id}", False),
        ("page: dead letters", "/dashboard/dead-letters", False),
        ("page: jobs, newest first", "/dashboard/jobs", False),
        ("page: one job", f"/dashboard/jobs/{job_id}", False),
        ("rq-dashboard: queues", "/admin/queues/0/data/queues.json", False),
        ("rq-dashboard: queued jobs, page 1", "/admin/queues/0/data/jobs/default/queued/8/asc/1.json", False),
        (
            "rq-dashboard: queued jobs, newest first",
            "/admin/queues/0/data/jobs/default/queued/8/dsc/1.json",
            False,
        ),
        (
            "rq-dashboard: queued jobs, last page",
            f"/admin/queues/0/data/jobs/default/queued/8/asc/{max(1, (jobs + 7) // 8)}.json",
            False,
        ),
    ]


def scale(connection: Redis, url: str, jobs: int = 100_000, tasks: int = 10_000) -> str:
    """Memory per job and per task, enqueue/create rates, and read latencies with both stored."""
    connection.flushall()
    load_tasks()
    settings = load_settings({"REDIS_URL": url})
    frozen = time.time()  # the engine's clock stands still: nothing stored comes due while we measure
    engine = Engine(connection, settings, name="bench-scale", clock=lambda: frozen)
    engine.tick()  # first pass: syncs the declared schedules
    empty_pass = _timed(engine.tick)
    before = _used_memory(connection)
    enqueue_s = enqueue_jobs(connection, settings, jobs)
    after_jobs = _used_memory(connection)
    create_s, task_ids = create_tasks(connection, tasks)
    after_tasks = _used_memory(connection)
    full_pass = _timed(engine.tick)
    job_id = connection.lindex("rq:queue:default", jobs // 2)
    assert job_id is not None and connection.llen("rq:queue:default") == jobs  # the engine fired nothing
    facts = [
        ("queued jobs", f"{jobs:,}"),
        ("enqueue (enqueue_many, pipelines of 1,000)", f"{jobs / enqueue_s:,.0f} jobs/s"),
        ("Redis memory per queued job", f"{(after_jobs - before) / jobs:,.0f} B"),
        ("scheduled tasks", f"{tasks:,} ({tasks // 10:,} paused)"),
        (f"create (TaskStore.create, {CREATORS} threads)", f"{tasks / create_s:,.0f} tasks/s"),
        ("Redis memory per task", f"{(after_tasks - after_jobs) / tasks:,.0f} B (incl. indexes)"),
        ("Redis used memory", f"{after_tasks / 1_048_576:,.0f} MB"),
        ("scheduler pass (Engine.tick), nothing due, empty Redis", f"{empty_pass:.2f} ms"),
        ("scheduler pass (Engine.tick), nothing due, all stored", f"{full_pass:.2f} ms"),
    ]
    rows = []
    port = free_port()
    process = start_web(url, port)
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        for label, path, api in endpoints(job_id.decode(), task_ids[len(task_ids) // 2], jobs, tasks):
            median, slowest, size = browser.timed(path, api)
            rows.append(
                (
                    label,
                    f"`{path.split('?')[0] if len(path) > 60 else path}`",
                    f"{median:.1f}",
                    f"{slowest:.1f}",
                    f"{size:,}",
                )
            )
    finally:
        stop([process])
        connection.flushall()
    title = f"{jobs:,} queued jobs and {tasks:,} scheduled tasks"
    return (
        table(f"Scale: {title}", ("measure", "value"), facts)
        + "\n"
        + table(
            f"Reads with {title} (median and slowest of {REPEAT}, real web process, loopback)",
            ("read", "path", "median ms", "slowest ms", "bytes"),
            rows,
        )
    )


def main(jobs: int, tasks: int) -> None:
    """Run the scale benchmark alone on a private redis-server (``python -m bench --scale``)."""
    from bench.common import private_redis

    with private_redis() as server:
        print(scale(connect_url(server.url), server.url, jobs, tasks), flush=True)
