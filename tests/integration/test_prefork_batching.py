"""The prefork horse's shortcuts lose nothing: metrics counted in its memory reach Redis (at exit, when
idle), and a job popped ahead of time (with the previous job's finish) runs once or goes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from jobs.enqueue import JobRequest, enqueue
from jobs.metrics import read_counters, read_durations
from jobs.settings import Settings
from jobs.worker.error_summary import EXCEPTION_HANDLERS
from tests.conftest import prefork_worker
from tests.e2e.fault_support import Proc, wait_for

pytestmark = pytest.mark.usefixtures("restore_signals")


def test_counts_held_by_horses_reach_redis_when_they_exit(connection: Redis, settings: Settings) -> None:
    ids = [enqueue(connection, settings, JobRequest("tests.add", args=(i, 1))).job.id for i in range(25)]
    enqueue(connection, settings, JobRequest("tests.fail"))
    # Horses are replaced after 10 jobs and after the failure: four horses, each flushing as it exits.
    prefork_worker(connection, exception_handlers=EXCEPTION_HANDLERS, recycle_jobs=10).work(burst=True)

    counters = read_counters(connection)
    assert counters[("started", "tests.add", "default")] == 25
    assert counters[("finished", "tests.add", "default")] == 25
    assert counters[("started", "tests.fail", "default")] == 1
    assert counters[("failed", "tests.fail", "default")] == 1
    assert read_durations(connection)[("tests.add", "default")].count == 25
    results = [job.return_value() for job in Job.fetch_many(ids, connection=connection) if job]
    assert results == [i + 1 for i in range(25)]
    assert connection.llen("rq:queue:default:intermediate") == 0


def test_a_horse_stopping_early_leaves_the_rest_queued_in_order(
    connection: Redis, settings: Settings
) -> None:
    ids = [enqueue(connection, settings, JobRequest("tests.add", args=(i, 1))).job.id for i in range(10)]
    prefork_worker(connection, exception_handlers=EXCEPTION_HANDLERS).work(burst=True, max_jobs=4)

    statuses = [job.get_status() for job in Job.fetch_many(ids, connection=connection) if job]
    assert statuses == ["finished"] * 4 + ["queued"] * 6
    assert Queue("default", connection=connection).job_ids == ids[4:]
    assert connection.llen("rq:queue:default:intermediate") == 0
    assert read_counters(connection)[("finished", "tests.add", "default")] == 4


def test_an_idle_worker_has_written_its_counts(
    connection: Redis, settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    worker = Proc("jobs.worker", redis_url, tmp_path / "worker.log", JOB_CONCURRENCY="1")
    try:
        for i in range(3):
            enqueue(connection, settings, JobRequest("tests.add", args=(i, 1)))
        # No event follows the last job: only the flush on going idle can bring its counts.
        wait_for(
            lambda: read_counters(connection).get(("finished", "tests.add", "default")) == 3,
            20,
            "the idle worker's counts",
        )
        assert read_counters(connection)[("started", "tests.add", "default")] == 3
    finally:
        assert worker.stop() == 0, worker.output()
