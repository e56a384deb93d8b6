"""Redis restarts (with AOF) under the real processes, or is not there yet when they start.

A restart must lose nothing (scheduled tasks, pending delayed jobs, retry state, history), the web
process must answer a clear 503 while Redis is down and recover by itself, and the worker and the
scheduler must reconnect without being restarted; started before Redis, they wait for it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from redis import Redis

from jobs import keys
from jobs.connection import connect_url
from jobs.enqueue import JobRequest, enqueue
from jobs.local.redis_server import RedisServer, embedded_server, free_port
from jobs.settings import load_settings
from tests.conftest import TEST_ENV
from tests.e2e.fault_support import (
    AUTH,
    DOWN_FOR,
    Proc,
    assert_no_crash_loop,
    pool_worker_pids,
    statuses,
    wait_for,
)

DELAY = 8  # seconds the delayed job and the scheduled retry wait: they must still wait when Redis stops


class Web:
    """HTTP against the real web process."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        self.session.headers.update(AUTH)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, timeout=10)

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=10)

    def up(self) -> bool:
        try:
            return self.get("/healthz").status_code == 200
        except requests.ConnectionError:
            return False


def _error_code(response: requests.Response) -> str:
    return str(response.json()["error"]["code"])


@pytest.mark.slow
def test_a_redis_restart_loses_nothing_and_every_process_reconnects(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    port = free_port()
    server = RedisServer(port, data, appendonly=True, binary=embedded_server()).start()
    url = server.url
    web_port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {"SCHEDULER_LEASE": "1", "JOB_CONCURRENCY": "1", "JOB_ABANDON_AFTER": "2"}
    procs = [
        Proc("web.server", url, logs / "web.log", PORT=str(web_port), WEB_CONCURRENCY="1", **env),
        Proc("jobs.worker", url, logs / "worker.log", **env),
        Proc("scheduler", url, logs / "scheduler.log", **env),
    ]
    _web, worker, scheduler = procs
    api = Web(web_port)
    connection: Redis | None = None
    try:
        wait_for(api.up, 30, "the web process to answer")
        wait_for(lambda: api.get("/healthz").json()["schedulers"], 30, "the scheduler to report")

        # State of every kind the restart must keep.
        every = api.post(
            "/admin/scheduler",
            {"name": "every-second", "handler": "tests.record_run", "schedule": "* * * * * *"},
        ).json()
        nightly = api.post(
            "/admin/scheduler",
            {
                "name": "nightly",
                "handler": "system.noop",
                "schedule": "0 3 * * *",
                "timezone": "Europe/Berlin",
            },
        ).json()
        flaky = api.post(
            "/admin/scheduler",
            {
                "name": "flaky",
                "handler": "tests.flaky",
                "params": {"counter_file": str(tmp_path / "flaky"), "failures": 1},
                "schedule": "now",
                "maxRetries": 2,
                "retryDelay": f"{DELAY}s",
            },
        ).json()
        wait_for(
            lambda: api.get(f"/admin/scheduler/{flaky['id']}").json()["status"] == "retry-scheduled",
            20,
            "the flaky task's first attempt to fail",
        )
        wait_for(
            lambda: api.get(f"/admin/scheduler/{every['id']}/executions").json()["total"] >= 2,
            20,
            "two runs of the every-second task",
        )
        delayed = api.post(
            "/api/v1/jobs", {"task": "tests.record", "kwargs": {"key": "delayed"}, "delay_seconds": DELAY}
        ).json()
        before = api.post("/api/v1/jobs", {"task": "system.echo", "kwargs": {"n": 1}}).json()
        wait_for(lambda: api.get(f"/api/v1/jobs/{before['id']}").json()["status"] == "finished", 20, "a job")
        pool_workers = pool_worker_pids(worker)
        history_before = api.get(f"/admin/scheduler/{every['id']}/executions").json()["total"]
        flaky_before = api.get(f"/admin/scheduler/{flaky['id']}").json()
        names_before = {t["name"] for t in api.get("/admin/scheduler?per_page=100").json()["items"]}
        assert {"every-second", "nightly", "flaky"} <= names_before
        assert flaky_before["retryCount"] == 1
        assert api.get(f"/api/v1/jobs/{delayed['id']}").json()["status"] == "scheduled"

        server.stop()  # SIGTERM: Redis writes its append-only file and exits
        down_at = time.monotonic()
        refused = api.post("/api/v1/jobs", {"task": "system.echo"})
        assert refused.status_code == 503
        assert _error_code(refused) == "redis_unavailable"
        assert refused.headers["Retry-After"]
        read = api.get(f"/api/v1/jobs/{before['id']}")
        assert (read.status_code, _error_code(read)) == (503, "redis_unavailable")
        scheduler_api = api.get("/admin/scheduler")
        assert (scheduler_api.status_code, _error_code(scheduler_api)) == (503, "redis_unavailable")
        health = api.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "down"
        time.sleep(max(0.0, DOWN_FOR - (time.monotonic() - down_at)))  # Redis stays down a while
        assert all(p.popen.poll() is None for p in procs), "a process died while Redis was down"

        server = RedisServer(port, data, appendonly=True, binary=embedded_server()).start()
        connection = connect_url(url)
        wait_for(api.up, 15, "the web process to recover by itself")

        # Nothing was lost.
        tasks = {t["name"]: t for t in api.get("/admin/scheduler?per_page=100").json()["items"]}
        assert set(tasks) == names_before
        assert tasks["nightly"]["nextRun"] == nightly["nextRun"]
        assert api.get(f"/admin/scheduler/{every['id']}/executions").json()["total"] >= history_before
        flaky_after = api.get(f"/admin/scheduler/{flaky['id']}").json()
        assert flaky_after["retryCount"] == 1
        assert flaky_after["status"] in ("retry-scheduled", "running", "active", "completed")
        assert api.get(f"/api/v1/jobs/{before['id']}").json()["result"] == {"n": 1}

        # The worker and the scheduler reconnected on their own: new work runs, delayed work comes due.
        after = api.post("/api/v1/jobs", {"task": "system.echo", "kwargs": {"n": 2}}).json()
        wait_for(
            lambda: api.get(f"/api/v1/jobs/{after['id']}").json()["status"] == "finished",
            20,
            "a job enqueued after the restart to finish",
        )
        runs_after = connection.llen("test:runs")
        wait_for(lambda: connection.llen("test:runs") >= runs_after + 2, 15, "the every-second task to fire")
        wait_for(lambda: statuses(connection, [delayed["id"]]) == ["finished"], DELAY + 15, "the delayed job")
        assert connection.lrange("delayed", 0, -1) == [delayed["id"].encode()]
        wait_for(
            lambda: api.get(f"/admin/scheduler/{flaky['id']}").json()["status"] == "completed",
            DELAY + 15,
            "the flaky task's retry to run and succeed",
        )
        attempts = api.get(f"/admin/scheduler/{flaky['id']}/executions").json()["items"]
        assert sorted((e["attempt"], e["status"]) for e in attempts) == [
            (1, "retry-scheduled"),
            (2, "completed"),
        ]

        # Without a restart and without a crash loop: the same processes, the same worker children.
        assert all(p.popen.poll() is None for p in procs), "a process exited"
        assert pool_workers and pool_worker_pids(worker) == pool_workers, "the pool replaced a worker process"
        assert_no_crash_loop(worker, scheduler)
        heartbeats = api.get("/healthz").json()
        assert heartbeats["schedulers"] and heartbeats["workers"]
    finally:
        for proc in procs:
            proc.stop()
        if connection is not None:
            connection.close()
        server.stop(kill=True)


@pytest.mark.slow
def test_processes_started_while_redis_is_down_wait_for_it(tmp_path: Path) -> None:
    """A dyno restart during Redis maintenance: the worker and the scheduler wait, then run."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    env = {"SCHEDULER_LEASE": "1", "JOB_CONCURRENCY": "1"}
    worker = Proc("jobs.worker", url, tmp_path / "worker.log", **env)
    scheduler = Proc("scheduler", url, tmp_path / "scheduler.log", **env)
    server = None
    try:
        time.sleep(DOWN_FOR)  # nothing to poll: Redis is not there yet
        pool_workers = pool_worker_pids(worker)
        assert pool_workers, worker.output()
        server = RedisServer(port, tmp_path / "redis", binary=embedded_server()).start()
        connection = connect_url(url)
        settings = load_settings({**TEST_ENV, "REDIS_URL": url})
        job = enqueue(connection, settings, JobRequest("tests.add", kwargs={"a": 2, "b": 3}))
        wait_for(lambda: statuses(connection, [job.job.id]) == ["finished"], 20, "the job to run")
        wait_for(lambda: connection.get(keys.SCHEDULER_LEADER), 10, "the scheduler to lead")
        assert pool_worker_pids(worker) == pool_workers, "the pool replaced a worker process"
        assert_no_crash_loop(worker, scheduler)
        connection.close()
    finally:
        worker.stop()
        scheduler.stop()
        if server is not None:
            server.stop(kill=True)
