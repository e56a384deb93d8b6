"""Jobs that misbehave, run by the Procfile's worker: each ends failed with its reason, the worker
process survives, the job's process is replaced, and the jobs after it run."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq.job import Job
from rq.worker import Worker

from jobs.connection import connect_url
from jobs.enqueue import JobRequest, enqueue
from jobs.settings import load_settings
from tests.conftest import TEST_ENV
from tests.e2e.fault_support import Proc, failure_reason, private_redis, statuses, wait_for

pytestmark = pytest.mark.slow

MISBEHAVING = [
    ("tests.exit", {"code": 3}, "exit status 3"),
    ("tests.deaf_hang", {}, "exceeded its timeout of 1s"),
    ("tests.hang", {}, "JobTimeoutException"),
    ("tests.hog", {}, "MemoryError"),
    ("tests.unserialisable", {}, "UnstorableResult"),
    ("tests.fail", {"message": "plain failure"}, "ValueError: plain failure"),
]


def test_misbehaving_jobs_fail_with_their_reason_and_the_worker_goes_on(tmp_path: Path) -> None:
    with private_redis(tmp_path / "redis") as server:
        connection = connect_url(server.url)
        settings = load_settings({**TEST_ENV, "REDIS_URL": server.url})

        def put(task: str, **kwargs: object) -> str:
            return enqueue(connection, settings, JobRequest(task, kwargs=kwargs)).job.id

        # One worker, so every job below runs in order in the same worker process.
        worker = Proc(
            "jobs.worker",
            server.url,
            tmp_path / "worker.log",
            JOB_CONCURRENCY="1",
            JOB_MEMORY_LIMIT_MB="300",
            WORKER_RECYCLE_RSS_MB="120",
            JOB_ABANDON_AFTER="2",
        )
        try:
            first_pid = put("tests.pid")
            wait_for(lambda: statuses(connection, [first_pid]) == ["finished"], 30, "the worker to start")
            [worker_before] = Worker.all(connection=connection)

            bad, pid_jobs = [], [first_pid]
            for task, kwargs, _ in MISBEHAVING:
                bad.append(put(task, **kwargs))
                pid_jobs.append(put("tests.pid"))
            leaky = put("tests.leak", megabytes=150)
            pid_jobs.append(put("tests.pid"))
            everything = [*bad, leaky, *pid_jobs]
            wait_for(
                lambda: all(s in ("finished", "failed") for s in statuses(connection, everything)),
                60,
                "every job to end",
            )

            assert statuses(connection, bad) == ["failed"] * len(bad)
            for job_id, (task, _, reason) in zip(bad, MISBEHAVING, strict=True):
                assert reason in failure_reason(connection, job_id), task
            assert statuses(connection, pid_jobs) == ["finished"] * len(pid_jobs)

            horse_pids = [Job.fetch(j, connection=connection).return_value() for j in pid_jobs]
            # A fresh process after each failure (exit, kill, timeout, MemoryError...), and after the leak.
            assert len(set(horse_pids)) == len(horse_pids)
            assert Job.fetch(leaky, connection=connection).return_value() == horse_pids[-2]

            # The worker itself (the process RQ registers) never went away.
            [worker_after] = Worker.all(connection=connection)
            assert (worker_after.name, worker_after.pid) == (worker_before.name, worker_before.pid)
            assert worker_after.failed_job_count == len(bad)
        finally:
            worker.stop()
