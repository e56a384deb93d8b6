"""Redis itself fails under the real processes: restarted (with AOF) and full (``maxmemory``).

A restart must lose nothing (scheduled tasks, pending delayed jobs, retry state, history), the web
process must answer a clear 503 while Redis is down and recover by itself, and the worker and the
scheduler must reconnect without being restarted. A full Redis must refuse new work with a clear 503
and leave what it already holds intact.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from redis import Redis
from redis.exceptions import OutOfMemoryError
from rq.job import Job

from jobs import keys
from jobs.connection import connect_url
from jobs.enqueue import JobRequest, enqueue
from jobs.local.redis_server import RedisServer, embedded_server, free_port
from jobs.settings import load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, run_worker
from tests.e2e.fault_support import Proc, statuses, wait_for
from web import create_app

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DELAY = 8  # seconds the delayed job and the scheduled retry wait: they must still wait when Redis stops
DOWN_FOR = 3.0  # seconds Redis stays down: several of the worker's and the scheduler's reconnect backoffs


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


def _pool_workers(proc: Proc) -> set[int]:
    """The pool's worker processes (its direct children; their work horses may be replaced)."""
    return {pid for pid in proc.descendants() if _parent(pid) == proc.pid}


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
        pool_workers = _pool_workers(worker)
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
        assert pool_workers and _pool_workers(worker) == pool_workers, "the pool replaced a worker process"
        assert_no_crash_loop(worker, scheduler)
        heartbeats = api.get("/healthz").json()
        assert heartbeats["schedulers"] and heartbeats["workers"]
    finally:
        for proc in procs:
            proc.stop()
        if connection is not None:
            connection.close()
        server.stop(kill=True)


def assert_no_crash_loop(worker: Proc, scheduler: Proc) -> None:
    """Neither the pool replaced a worker nor a worker replaced a crashed horse."""
    for proc in (worker, scheduler):
        assert proc.popen.poll() is None, proc.output()[-3000:]
    for sign in ("is dead", "work horse crashed", "Traceback (most recent call last):\nredis"):
        assert sign not in worker.output(), worker.output()[-3000:]
    assert "Traceback" not in scheduler.output(), scheduler.output()[-3000:]


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


MAXMEMORY = 4 * 1_048_576  # bytes: small enough to fill in a moment
FILLER = b"x" * 65_536


def _keep_full(connection: Redis) -> None:
    """Set the limit just under what is used, so every write that needs memory is refused: right after
    a refused write the server's usage can dip (freed buffers) and let a small write through."""
    connection.config_set("maxmemory", str(int(connection.info("memory")["used_memory"]) - 1_048_576))


def _fill(connection: Redis) -> int:
    """Write filler keys until Redis refuses with OOM; return how many were stored."""
    stored = 0
    while True:
        try:
            connection.set(f"filler:{stored}", FILLER)
        except OutOfMemoryError:
            return stored
        stored += 1


def test_a_full_redis_refuses_new_work_and_keeps_what_it_holds(tmp_path: Path) -> None:
    extra = ("--maxmemory", str(MAXMEMORY), "--maxmemory-policy", "noeviction")
    server = RedisServer(free_port(), tmp_path / "redis", extra_args=extra, binary=embedded_server()).start()
    try:
        connection = connect_url(server.url)
        settings = load_settings({**TEST_ENV, "REDIS_URL": server.url})
        client = create_app(settings, connection).test_client()
        kept = [
            client.post("/api/v1/jobs", headers=AUTH, json={"task": "tests.add", "kwargs": {"a": i, "b": 1}})
            for i in range(3)
        ]
        assert [r.status_code for r in kept] == [201, 201, 201]
        kept_ids = [r.get_json()["id"] for r in kept]
        task = client.post(
            "/admin/scheduler",
            headers=AUTH,
            json={
                "name": "kept",
                "handler": "tests.add",
                "params": {"a": 1, "b": 1},
                "schedule": "@every 1h",
            },
        )
        assert task.status_code == 201
        assert _fill(connection) > 0
        _keep_full(connection)
        job_keys = set(connection.keys("rq:job:*"))
        queued = connection.lrange("rq:queue:default", 0, -1)

        for body, path in (
            ({"task": "system.echo", "kwargs": {"x": "y"}}, "/api/v1/jobs"),
            ({"task": "system.echo", "job_id": "named-job"}, "/api/v1/jobs"),
            ({"task": "system.echo", "delay_seconds": 60}, "/api/v1/jobs"),
            (
                {"name": "new", "handler": "tests.add", "params": {"a": 1, "b": 2}, "schedule": "@every 1h"},
                "/admin/scheduler",
            ),
        ):
            response = client.post(path, headers=AUTH, json=body)
            assert response.status_code == 503, (path, body, response.get_json())
            assert response.get_json()["error"]["code"] == "redis_full"
            assert response.headers["Retry-After"]
        idempotent = client.post(
            "/api/v1/jobs", headers={**AUTH, "Idempotency-Key": "k1"}, json={"task": "system.echo"}
        )
        assert (idempotent.status_code, idempotent.get_json()["error"]["code"]) == (503, "redis_full")

        # Nothing half-written: no new job hash, the queue as it was, the stored jobs still readable.
        assert set(connection.keys("rq:job:*")) == job_keys
        assert connection.lrange("rq:queue:default", 0, -1) == queued
        for job_id in kept_ids:
            view = client.get(f"/api/v1/jobs/{job_id}", headers=AUTH)
            assert view.status_code == 200 and view.get_json()["status"] == "queued"
        listing = client.get("/admin/scheduler", headers=AUTH).get_json()
        assert [t["name"] for t in listing["items"]] == ["kept"]

        # Room again (the limit raised): the same key retried now works, the kept jobs run.
        connection.config_set("maxmemory", str(MAXMEMORY * 4))
        retried = client.post(
            "/api/v1/jobs", headers={**AUTH, "Idempotency-Key": "k1"}, json={"task": "system.echo"}
        )
        assert retried.status_code == 201
        run_worker(connection)
        assert statuses(connection, kept_ids) == ["finished"] * 3
        results = [client.get(f"/api/v1/jobs/{i}", headers=AUTH).get_json()["result"] for i in kept_ids]
        assert results == [1, 2, 3]
        connection.close()
    finally:
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
        pool_workers = _pool_workers(worker)
        assert pool_workers, worker.output()
        server = RedisServer(port, tmp_path / "redis", binary=embedded_server()).start()
        connection = connect_url(url)
        settings = load_settings({**TEST_ENV, "REDIS_URL": url})
        job = enqueue(connection, settings, JobRequest("tests.add", kwargs={"a": 2, "b": 3}))
        wait_for(lambda: statuses(connection, [job.job.id]) == ["finished"], 20, "the job to run")
        wait_for(lambda: connection.get(keys.SCHEDULER_LEADER), 10, "the scheduler to lead")
        assert _pool_workers(worker) == pool_workers, "the pool replaced a worker process"
        assert_no_crash_loop(worker, scheduler)
        connection.close()
    finally:
        worker.stop()
        scheduler.stop()
        if server is not None:
            server.stop(kill=True)


@pytest.mark.slow
def test_a_full_redis_does_not_crash_the_worker_or_the_scheduler(tmp_path: Path) -> None:
    """One worker pool runs when Redis fills up, another starts while it is full: both wait, neither
    crash-loops, and both run jobs once there is room again."""
    extra = ("--maxmemory", str(MAXMEMORY), "--maxmemory-policy", "noeviction")
    server = RedisServer(free_port(), tmp_path / "redis", extra_args=extra, binary=embedded_server()).start()
    env = {"SCHEDULER_LEASE": "1", "JOB_CONCURRENCY": "1", "JOB_ABANDON_AFTER": "2"}
    running = Proc("jobs.worker", server.url, tmp_path / "running.log", **env)
    scheduler = Proc("scheduler", server.url, tmp_path / "scheduler.log", **env)
    late: Proc | None = None
    try:
        connection = connect_url(server.url)
        settings = load_settings({**TEST_ENV, "REDIS_URL": server.url})
        first = enqueue(connection, settings, JobRequest("tests.add", kwargs={"a": 1, "b": 1})).job.id
        wait_for(lambda: statuses(connection, [first]) == ["finished"], 20, "a job before Redis fills")
        pool_workers = _pool_workers(running)
        queued = [
            enqueue(
                connection, settings, JobRequest("tests.add", kwargs={"a": i, "b": 0}, delay_seconds=1)
            ).job.id
            for i in range(3)
        ]
        _fill(connection)
        _keep_full(connection)
        late = Proc("jobs.worker", server.url, tmp_path / "late.log", **env)
        time.sleep(DOWN_FOR)  # the refused writes happen now, in the processes; nothing to poll for
        assert statuses(connection, queued) == ["scheduled"] * 3  # not moved, not half-moved
        assert _pool_workers(running) == pool_workers
        assert_no_crash_loop(running, scheduler)
        assert_no_crash_loop(late, scheduler)

        connection.config_set("maxmemory", "0")  # room again
        wait_for(lambda: statuses(connection, queued) == ["finished"] * 3, 20, "the delayed jobs to run")
        assert [Job.fetch(i, connection=connection).return_value() for i in queued] == [0, 1, 2]
        after = [
            enqueue(connection, settings, JobRequest("tests.add", kwargs={"a": i, "b": 1})).job.id
            for i in range(4)
        ]
        wait_for(
            lambda: statuses(connection, after) == ["finished"] * 4, 20, "jobs after the limit was raised"
        )
        assert _pool_workers(running) == pool_workers
        assert_no_crash_loop(running, scheduler)
        assert_no_crash_loop(late, scheduler)
        connection.close()
    finally:
        for proc in (running, scheduler, late):
            if proc is not None:
                proc.stop()
        server.stop(kill=True)
