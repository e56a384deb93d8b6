"""rq-scheduler client code against our scheduler process (one Engine, real Redis): one-shot, interval with
repeat, cron; never early, never twice; counted and shown by the API; rqscheduler's lock respected."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from rq.job import Job
from rq_scheduler import Scheduler

from jobs.settings import Settings
from scheduler.engine import Engine
from scheduler.rq_scheduler_jobs import LOCK, SCHEDULED_JOBS
from tests.conftest import ADMIN_TOKEN, ApiClient, run_worker
from tests.waiting import wait_for
from tests.web_login import login

FUNC = "tests.fixtures.record_moment"


def runs(connection: Redis, key: str = "moments") -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in connection.lrange(key, 0, -1)]


def drive(engine: Engine, connection: Redis, done: Callable[[], bool], timeout: float = 60) -> None:
    """Tick the engine and run what it enqueued until ``done()``, within ``timeout`` seconds."""

    def step() -> bool:
        if done():
            return True
        engine.tick()
        run_worker(connection, ("high", "default", "low", "elsewhere"))
        return False

    wait_for(step, timeout, "the rq-scheduler jobs to run", every=0.02)


def test_enqueue_in_runs_once_never_early_and_is_listed(
    app: Flask, api: ApiClient, connection: Redis, settings: Settings
) -> None:
    client = Scheduler(connection=connection)
    intended = time.time() + 1.5
    job = client.enqueue_in(timedelta(seconds=1.5), FUNC, "moments")
    seen = api.get(f"/api/v1/jobs/{job.id}").get_json()
    assert seen["status"] == "scheduled"
    due = datetime.fromisoformat(seen["scheduled_for"]).timestamp()
    assert due >= intended  # the end of the whole second rq-scheduler truncated the time into
    queues = {q["name"]: q for q in api.get("/api/v1/queues").get_json()["items"]}
    assert queues["default"]["scheduled"] == 1
    browser = app.test_client()
    login(browser, ADMIN_TOKEN)
    assert re.search(r'data-figure="scheduled">1<', browser.get("/dashboard/").get_data(as_text=True))

    engine = Engine(connection, settings)
    drive(engine, connection, lambda: len(runs(connection)) >= 1)
    [run] = runs(connection)
    assert run["enqueued"] >= due >= intended
    for _ in range(5):  # more passes move nothing more
        engine.tick()
    run_worker(connection)
    assert len(runs(connection)) == 1
    assert connection.zcard(SCHEDULED_JOBS) == 0


def test_interval_with_repeat_runs_that_many_times_at_the_interval(
    connection: Redis, settings: Settings
) -> None:
    client = Scheduler(connection=connection)
    first = datetime.now(UTC)
    client.schedule(first, FUNC, args=["moments"], interval=1, repeat=3)
    engine = Engine(connection, settings)
    drive(engine, connection, lambda: len(runs(connection)) >= 3)
    for _ in range(30):  # 1.5 s more: no fourth run
        engine.tick()
        time.sleep(0.05)
    run_worker(connection)
    moments = runs(connection)
    assert len(moments) == 3
    first_due = int(first.timestamp()) + 1  # the end of the whole second rq-scheduler stored
    for occurrence, moment in enumerate(moments):  # drift-free: each is due one interval after the last
        assert moment["enqueued"] >= first_due + occurrence * 1
    assert connection.zcard(SCHEDULED_JOBS) == 0


# rq-scheduler's cron() calls crontab in a way that emits a FutureWarning attributed to rq_scheduler
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_cron_job_fires_on_its_second_and_keeps_its_place(connection: Redis, settings: Settings) -> None:
    client = Scheduler(connection=connection)
    job = client.cron("*/2 * * * * * *", FUNC, args=["moments"], repeat=2, id="every-two-seconds")
    first_due = connection.zscore(SCHEDULED_JOBS, job.id)
    assert first_due is not None and first_due % 2 == 0
    engine = Engine(connection, settings)
    drive(engine, connection, lambda: len(runs(connection)) >= 2)
    moments = runs(connection)
    assert len(moments) == 2
    assert moments[0]["enqueued"] >= first_due
    assert moments[1]["enqueued"] >= first_due + 2
    assert connection.zcard(SCHEDULED_JOBS) == 0


def test_a_run_still_queued_is_not_pushed_again(connection: Redis, settings: Settings) -> None:
    """rqscheduler enqueues before it removes the entry: the entry may outlive the move. We never push
    the same job id while its previous run is pending."""
    client = Scheduler(connection=connection)
    job = client.enqueue_at(datetime.now(UTC) - timedelta(seconds=5), FUNC, "moments")
    Queue("default", connection=connection).enqueue_job(Job.fetch(job.id, connection=connection))
    engine = Engine(connection, settings)
    engine.tick()
    assert connection.lrange("rq:queue:default", 0, -1) == [job.id.encode()]
    assert connection.zcard(SCHEDULED_JOBS) == 0


def test_rqscheduler_finds_its_lock_taken_while_we_lead(connection: Redis, settings: Settings) -> None:
    engine = Engine(connection, settings)
    engine.tick()
    theirs = Scheduler(connection=connection, interval=1)
    assert not theirs.acquire_lock()
    engine.shutdown()
    assert theirs.acquire_lock()  # released at shutdown: an rqscheduler takes over
    theirs.remove_lock()


def test_rqscheduler_holding_the_lock_keeps_us_off_its_store(connection: Redis, settings: Settings) -> None:
    theirs = Scheduler(connection=connection, interval=1)
    assert theirs.acquire_lock()
    client = Scheduler(connection=connection)
    client.enqueue_at(datetime.now(UTC) - timedelta(seconds=5), FUNC, "moments")
    engine = Engine(connection, settings)
    engine.tick()
    assert connection.llen("rq:queue:default") == 0  # the lock holder moves them, not us
    theirs.remove_lock()
    engine.tick()
    assert connection.llen("rq:queue:default") == 1
    assert connection.get(LOCK) == engine.name.encode()


def test_delayed_jobs_on_other_queues_are_moved(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    other = Queue("elsewhere", connection=connection)
    plain = other.enqueue_at(datetime.now(UTC) - timedelta(seconds=3), FUNC, "moments")
    Scheduler(connection=connection).enqueue_at(
        datetime.now(UTC) - timedelta(seconds=3), FUNC, "moments", queue_name="elsewhere"
    )
    queues = {q["name"]: q for q in api.get("/api/v1/queues").get_json()["items"]}
    assert queues["elsewhere"]["scheduled"] == 2
    assert api.get(f"/api/v1/jobs/{plain.id}").get_json()["scheduled_for"] is not None
    Engine(connection, settings).tick()
    assert connection.llen("rq:queue:elsewhere") == 2


def test_job_listing_shows_rq_scheduler_jobs_of_the_listed_queues(api: ApiClient, connection: Redis) -> None:
    client = Scheduler(connection=connection)
    ours = client.enqueue_in(timedelta(minutes=5), FUNC, "moments")
    elsewhere = client.enqueue_in(timedelta(minutes=5), FUNC, "moments", queue_name="low")
    listed = api.get("/api/v1/jobs?status=scheduled").get_json()["items"]
    assert {job["id"] for job in listed} == {ours.id, elsewhere.id}
    assert all(job["scheduled_for"] for job in listed)
    low = api.get("/api/v1/jobs?status=scheduled&queue=low").get_json()["items"]
    assert [job["id"] for job in low] == [elsewhere.id]


def test_healthz_counts_every_delayed_job_waiting_for_a_scheduler(api: ApiClient, connection: Redis) -> None:
    Scheduler(connection=connection).enqueue_in(timedelta(minutes=5), FUNC, "moments")
    Queue("elsewhere", connection=connection).enqueue_in(timedelta(minutes=5), FUNC, "moments")
    problems = api.get("/healthz").get_json()["problems"]
    assert any("no scheduler is running: 2 delayed" in problem for problem in problems), problems


def test_a_run_waiting_for_its_retry_is_not_started_again(connection: Redis, settings: Settings) -> None:
    """An interval job whose last run failed and waits in RQ's registry for a Retry: the occurrence due
    meanwhile is skipped, so the retry and the new run never overlap."""
    client = Scheduler(connection=connection)
    job = client.schedule(datetime.now(UTC) - timedelta(seconds=5), FUNC, args=["moments"], interval=60)
    job.retries_left, job.retry_intervals = 1, [30]
    job.save()
    # what RQ's Job.retry writes for a failed run under Retry(max=1, interval=30)
    Queue("default", connection=connection).schedule_job(job, datetime.now(UTC) + timedelta(seconds=30))
    Engine(connection, settings).tick()
    assert connection.llen("rq:queue:default") == 0
    next_due = connection.zscore(SCHEDULED_JOBS, job.id)
    assert next_due is not None and next_due > time.time()  # rescheduled to its next occurrence
