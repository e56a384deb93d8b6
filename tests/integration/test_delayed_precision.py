"""Delayed jobs keep their millisecond due time and are moved on it, never early: the REST API's
``delay_seconds``/``run_at``, retries of our tasks, and plain RQ's whole-second ``enqueue_in``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from jobs.settings import Settings
from scheduler.engine import Engine
from tests.conftest import ApiClient, run_worker
from tests.waiting import wait_for


def moved_at(connection: Redis, settings: Settings, job_id: str, timeout: float = 30) -> float:
    """Tick one engine until the job leaves its registry; returns when it was enqueued (epoch s)."""
    engine = Engine(connection, settings)

    def moved() -> Job | None:
        engine.tick()
        job = Job.fetch(job_id, connection=connection)
        return job if job.get_status() != "scheduled" else None

    job = wait_for(moved, timeout, f"job {job_id} to be moved", every=0.005)
    assert job.enqueued_at is not None
    return job.enqueued_at.timestamp()


def test_delay_seconds_keeps_milliseconds_and_is_never_early(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    asked = time.time()
    job = api.post(
        "/api/v1/jobs", json={"task": "tests.add", "args": [2, 3], "delay_seconds": 0.35}
    ).get_json()
    score = connection.zscore(ScheduledJobRegistry("default", connection=connection).key, job["id"])
    assert score is not None and score != int(score)  # not truncated to a whole second
    due = datetime.fromisoformat(job["scheduled_for"]).timestamp()
    assert due >= asked + 0.35 and abs(due - score) < 0.001
    assert moved_at(connection, settings, job["id"]) >= due
    run_worker(connection)
    assert api.get(job["url"]).get_json()["result"] == 5


def test_run_at_on_a_whole_second_is_not_mistaken_for_rqs_truncation(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    run_at = datetime.fromtimestamp(int(time.time()) + 2, UTC)
    job = api.post("/api/v1/jobs", json={"task": "tests.add", "args": [1, 1], "run_at": run_at.isoformat()})
    job_id = job.get_json()["id"]
    due = datetime.fromisoformat(job.get_json()["scheduled_for"])
    assert timedelta(0) <= due - run_at < timedelta(milliseconds=2)  # on the second, not a second later
    assert moved_at(connection, settings, job_id) >= run_at.timestamp()


def test_retry_of_a_task_keeps_its_milliseconds(
    connection: Redis, settings: Settings, tmp_counter: str
) -> None:
    from jobs.enqueue import JobRequest, enqueue

    job = enqueue(connection, settings, JobRequest("tests.flaky", args=(tmp_counter, 1))).job
    failed_at = time.time()
    run_worker(connection)  # fails once; RQ schedules the retry 1 s later
    score = connection.zscore(ScheduledJobRegistry("default", connection=connection).key, job.id)
    assert score is not None and score != int(score)
    assert score >= failed_at + 1
    assert moved_at(connection, settings, job.id) >= score
    run_worker(connection)
    assert Job.fetch(job.id, connection=connection).get_status() == "finished"


def test_plain_rq_enqueue_in_fires_at_the_end_of_its_whole_second(
    connection: Redis, settings: Settings
) -> None:
    intended = time.time() + 1.0
    job = Queue("default", connection=connection).enqueue_in(
        timedelta(seconds=1), "tests.fixtures.record_moment", "k"
    )
    score = connection.zscore(ScheduledJobRegistry("default", connection=connection).key, job.id)
    assert score == int(intended)  # RQ truncates; we must not release it at that second's start
    assert moved_at(connection, settings, job.id) >= score + 1 >= intended


def test_rqs_own_scheduler_stands_by_while_we_lead(connection: Redis, settings: Settings) -> None:
    """A stock ``rq worker --with-scheduler`` beside ours: RQ's scheduler finds its locks taken."""
    from rq.scheduler import RQScheduler

    engine = Engine(connection, settings)
    engine.tick()
    theirs = RQScheduler(["default"], connection=connection)
    assert theirs.acquire_locks() == set()
    engine.shutdown()
    assert theirs.acquire_locks() == {"default"}
    job = Queue("default", connection=connection).enqueue_in(
        timedelta(seconds=-3), "tests.fixtures.record_moment", "k"
    )
    standby = Engine(connection, settings)
    standby.tick()  # leads, but the default queue's lock is RQ's: its jobs are left to RQ's scheduler
    assert standby.leading and Job.fetch(job.id, connection=connection).get_status() == "scheduled"
    theirs.release_locks()
    standby.tick()
    assert Job.fetch(job.id, connection=connection).get_status() == "queued"


def test_batch_enqueue_keeps_milliseconds(connection: Redis, settings: Settings) -> None:
    from jobs.enqueue import JobRequest
    from jobs.enqueue_batch import enqueue_batch

    [outcome] = enqueue_batch(connection, settings, [JobRequest("tests.add", args=(1, 2), delay_seconds=0.3)])
    assert outcome.job is not None
    score = connection.zscore(ScheduledJobRegistry("default", connection=connection).key, outcome.job.id)
    assert score is not None and score != int(score)
    assert moved_at(connection, settings, outcome.job.id) >= score


def test_a_stale_mover_does_not_push_a_job_again(connection: Redis, settings: Settings) -> None:
    """A mover that read the due ids before another moved them (a paused ex-leader) pushes nothing."""
    from scheduler import delayed_jobs

    queue = Queue("default", connection=connection)
    job = queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=3), "tests.fixtures.record_moment", "k")
    stale = [job.id]
    assert delayed_jobs.move_due(connection, time.time(), ["default"]) == 1
    assert delayed_jobs.move_ids(connection, "default", stale) == 0
    assert connection.lrange("rq:queue:default", 0, -1) == [job.id.encode()]


def test_a_rate_limited_delayed_job_goes_through_rqs_rate_limiter(
    connection: Redis, settings: Settings
) -> None:
    from rq.rate_limit import RateLimit

    queue = Queue("default", connection=connection)
    when = datetime.now(UTC) - timedelta(seconds=3)
    limit = RateLimit("one-at-a-time", concurrency=1)
    first = queue.enqueue_at(when, "tests.fixtures.record_moment", "k", rate_limit=limit)
    second = queue.enqueue_at(when, "tests.fixtures.record_moment", "k", rate_limit=limit)
    Engine(connection, settings).tick()
    statuses = sorted(Job.fetch(j.id, connection=connection).get_status().value for j in (first, second))
    assert connection.llen("rq:queue:default") == 1  # one admitted by the limit, one held back by RQ
    assert connection.zcard(ScheduledJobRegistry("default", connection=connection).key) == 0
    assert statuses == ["queued", "rate_limited"]
