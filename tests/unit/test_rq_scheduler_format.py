"""Pins the library internals our delayed-job code relies on, so an upgrade that changes them fails here:
RQ's whole-second registry scores, rq-scheduler's keys, meta semantics and cron arithmetic."""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime, timedelta

import fakeredis
import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq_scheduler import Scheduler
from rq_scheduler.utils import get_next_scheduled_time, to_unix

from jobs.delayed import PreciseQueue, due_at, score_for
from scheduler import rq_scheduler_jobs
from scheduler.rq_scheduler_jobs import LOCK, SCHEDULED_JOBS, RqSchedulerJobs, next_cron

FUNC = "tests.fixtures.record_moment"


def test_score_for_keeps_milliseconds_and_never_lands_on_a_whole_second() -> None:
    assert score_for(datetime(2030, 1, 1, 0, 0, 0, 123400, tzinfo=UTC)) == 1893456000.124
    whole = score_for(datetime(2030, 1, 1, tzinfo=UTC))
    assert whole == 1893456000.0005 and due_at(whole) == whole
    assert due_at(1893456000.0) == 1893456001.0  # plain RQ's truncated score: the end of its second


def test_rq_registry_scores_whole_seconds_and_precise_queue_does_not() -> None:
    connection = fakeredis.FakeRedis()
    when = datetime.now(UTC) + timedelta(seconds=10, milliseconds=250)
    plain = Queue("q", connection=connection).enqueue_at(when, FUNC, "k")
    precise = PreciseQueue("q", connection=connection).enqueue_at(when, FUNC, "k")
    key = ScheduledJobRegistry("q", connection=connection).key
    plain_score, precise_score = connection.zscore(key, plain.id), connection.zscore(key, precise.id)
    assert plain_score is not None and plain_score == int(plain_score) == int(when.timestamp())
    assert precise_score is not None and 0 <= precise_score - when.timestamp() < 0.002


def test_rq_scheduler_keys_are_what_we_serve() -> None:
    assert SCHEDULED_JOBS == "rq:scheduler:scheduled_jobs"
    assert LOCK == "rq:scheduler_lock"


def both_move(setup: str) -> tuple[Redis, Redis]:
    """Build the same job on two fake Redis servers; move it once with rq-scheduler's own
    ``Scheduler.enqueue_job`` and once with ours."""
    servers = []
    for _ in range(2):
        connection = fakeredis.FakeRedis()
        client = Scheduler(connection=connection)
        past = datetime.now(UTC) - timedelta(seconds=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if setup == "one-shot":
                client.enqueue_at(past, FUNC, "k", job_id="j")
            elif setup.startswith("interval"):
                repeat = None if setup == "interval" else int(setup.split("=")[1])
                client.schedule(past, FUNC, args=["k"], interval=60, repeat=repeat, id="j")
            else:
                client.cron("* * * * *", FUNC, args=["k"], repeat=2, id="j")
                connection.zadd(SCHEDULED_JOBS, {"j": to_unix(past)})
        servers.append(connection)
    theirs, ours = servers
    client = Scheduler(connection=theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.enqueue_job(next(client.get_jobs_to_queue()))
    RqSchedulerJobs(ours, "test", 5.0).move_due(time.time())
    return theirs, ours


@pytest.mark.parametrize("setup", ["one-shot", "interval", "interval repeat=2", "interval repeat=1", "cron"])
def test_a_move_leaves_what_rq_schedulers_own_move_leaves(setup: str) -> None:
    theirs, ours = both_move(setup)
    for connection in (theirs, ours):
        assert connection.lrange("rq:queue:default", 0, -1) == [b"j"]
    their_job, our_job = Job.fetch("j", connection=theirs), Job.fetch("j", connection=ours)
    assert our_job.meta == their_job.meta
    assert our_job.get_status() == their_job.get_status()
    assert (ours.zscore(SCHEDULED_JOBS, "j") is None) == (theirs.zscore(SCHEDULED_JOBS, "j") is None)
    our_next = ours.zscore(SCHEDULED_JOBS, "j")
    if our_next is not None:
        assert our_next > time.time() - 1  # rescheduled ahead, not into the past


def test_next_cron_is_rq_schedulers_next_scheduled_time() -> None:
    for expression in ("*/5 * * * *", "0 3 * * 1", "30 */2 * * *"):
        for _ in range(3):  # a minute boundary between the two calls changes the answer: try again
            ours = next_cron(expression, time.time())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = to_unix(get_next_scheduled_time(expression))
            if ours == theirs:
                break
        assert ours == theirs


def test_due_time_rules() -> None:
    connection = fakeredis.FakeRedis()
    client = Scheduler(connection=connection)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cron = client.cron("* * * * *", FUNC, args=["k"])
    one_shot = client.enqueue_at(datetime.now(UTC), FUNC, "k")
    assert rq_scheduler_jobs.due_time(cron, 100.0) == 100.0
    assert rq_scheduler_jobs.due_time(one_shot, 100.0) == 101.0


def test_an_unreadable_job_is_left_in_place_and_does_not_stop_the_others() -> None:
    connection = fakeredis.FakeRedis()
    client = Scheduler(connection=connection)
    past = datetime.now(UTC) - timedelta(seconds=5)
    client.enqueue_at(past, FUNC, "k", job_id="bad")
    connection.hset(Job.key_for("bad"), "created_at", b"not a time")  # written by something else
    client.enqueue_at(past, FUNC, "k", job_id="good")
    assert RqSchedulerJobs(connection, "test", 5.0).move_due(time.time()) == 1
    assert connection.lrange("rq:queue:default", 0, -1) == [b"good"]
    assert connection.zscore(SCHEDULED_JOBS, "bad") is not None
