"""Redis is full (``maxmemory``) under the app and the real processes: new work is refused with a clear
503, what Redis already holds stays intact, and neither the worker nor the scheduler crash-loops.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import OutOfMemoryError
from rq.job import Job

from jobs.connection import connect_url
from jobs.enqueue import JobRequest, enqueue
from jobs.local.redis_server import RedisServer, embedded_server, free_port
from jobs.settings import load_settings
from tests.conftest import TEST_ENV, run_worker
from tests.e2e.fault_support import (
    AUTH,
    DOWN_FOR,
    Proc,
    assert_no_crash_loop,
    pool_worker_pids,
    statuses,
    wait_for,
)
from web import create_app

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
        pool_workers = pool_worker_pids(running)
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
        assert pool_worker_pids(running) == pool_workers
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
        assert pool_worker_pids(running) == pool_workers
        assert_no_crash_loop(running, scheduler)
        assert_no_crash_loop(late, scheduler)
        connection.close()
    finally:
        for proc in (running, scheduler, late):
            if proc is not None:
                proc.stop()
        server.stop(kill=True)
