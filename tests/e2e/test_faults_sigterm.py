"""SIGTERM to the Procfile's worker (a dyno restart): it stops taking jobs, the running job finishes
within the grace period, or is handed back to the front of its queue when the grace runs out."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import StartedJobRegistry

from jobs.connection import connect_url
from jobs.enqueue import JobRequest, enqueue
from jobs.settings import load_settings
from tests.conftest import TEST_ENV
from tests.e2e.fault_support import Proc, private_redis, statuses, wait_for

pytestmark = pytest.mark.slow


def test_sigterm_finishes_the_running_job_and_takes_no_other(tmp_path: Path) -> None:
    with private_redis(tmp_path / "redis") as server:
        connection = connect_url(server.url)
        settings = load_settings({**TEST_ENV, "REDIS_URL": server.url})
        running = enqueue(
            connection, settings, JobRequest("tests.record", kwargs={"key": "runs", "sleep": 1.5})
        )
        waiting = enqueue(connection, settings, JobRequest("tests.record", kwargs={"key": "runs"}))
        pool = Proc("jobs.worker", server.url, tmp_path / "worker.log", JOB_CONCURRENCY="1")
        try:
            wait_for(
                lambda: statuses(connection, [running.job.id]) == ["started"], 30, "the first job to start"
            )
            pool.popen.terminate()
            pool.popen.wait(timeout=15)
        finally:
            pool.stop()
        assert pool.popen.returncode == 0
        assert statuses(connection, [running.job.id, waiting.job.id]) == ["finished", "queued"]
        assert [r.decode() for r in connection.lrange("runs", 0, -1)] == [running.job.id]
        assert Queue("default", connection=connection).job_ids == [waiting.job.id]
        assert StartedJobRegistry("default", connection=connection).count == 0


def test_a_job_outliving_the_grace_period_is_handed_back(tmp_path: Path) -> None:
    with private_redis(tmp_path / "redis") as server:
        connection = connect_url(server.url)
        settings = load_settings({**TEST_ENV, "REDIS_URL": server.url})
        long = enqueue(connection, settings, JobRequest("tests.record", kwargs={"key": "runs", "sleep": 60}))
        other = enqueue(connection, settings, JobRequest("tests.record", kwargs={"key": "runs"}))
        pool = Proc(
            "jobs.worker", server.url, tmp_path / "worker.log", JOB_CONCURRENCY="1", WORKER_SHUTDOWN_GRACE="1"
        )
        try:
            wait_for(lambda: statuses(connection, [long.job.id]) == ["started"], 30, "the long job to start")
            pool.popen.terminate()
            # The job sleeps 60 s: a worker that exits well before that cut it short after the 1 s
            # grace instead of waiting for it (how fast is measured, not asserted).
            pool.popen.wait(timeout=45)
        finally:
            pool.stop()
        assert statuses(connection, [long.job.id, other.job.id]) == ["queued", "queued"]
        # Handed back to the front, ahead of the job that was waiting behind it, with no retry used up.
        assert Queue("default", connection=connection).job_ids == [long.job.id, other.job.id]
        job = Job.fetch(long.job.id, connection=connection)
        assert job.retries_left == 5
        assert job.latest_result() is None
        assert StartedJobRegistry("default", connection=connection).count == 0
        assert connection.llen("runs") == 0
