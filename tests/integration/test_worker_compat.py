"""Plain RQ code against the Taskyard worker: nothing lost, run twice or stranded.

The worker runs in this process (the prefork worker forks its horse from here); what other processes do
meanwhile (cancel, write meta, stop, another worker's registry cleanup) is done by a thread of the test
on its own connection, while the job runs.
"""

from __future__ import annotations

import logging
import pickle
import sys
import threading
import types
from collections.abc import Callable

import pytest
from redis import Redis
from rq import Queue, Retry
from rq.command import send_stop_job_command
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from rq.suspension import resume, suspend

from jobs.connection import connect_url
from jobs.enqueue import JobRequest, enqueue
from jobs.settings import Settings, load_settings
from jobs.worker.horse_state import ID_CAPACITY
from tests.conftest import TEST_ENV, prefork_worker
from tests.e2e.fault_support import failure_reason, wait_for

pytestmark = pytest.mark.usefixtures("restore_signals")


def _allowing_plain_rq(redis_url: str) -> Settings:
    return load_settings({**TEST_ENV, "REDIS_URL": redis_url, "RQ_ALLOWED_FUNCTIONS": "tests.plain_rq"})


def _meanwhile(redis_url: str, action: Callable[[Redis], None]) -> threading.Thread:
    """Run ``action`` on a connection of its own in a thread (another process, as far as Redis sees)."""

    def body() -> None:
        client = connect_url(redis_url)
        try:
            action(client)
        finally:
            client.close()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def _started(client: Redis, job_id: str) -> bool:
    return client.hget(Job.key_for(job_id), "status") == b"started"


@pytest.mark.parametrize("length", [200, ID_CAPACITY + 500])
def test_long_job_ids_run_once_past_the_heartbeat_and_stop_as_stopped(
    connection: Redis, settings: Settings, redis_url: str, length: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Ids longer than the work horse's shared slot holds are found through Redis. The job outlives its
    heartbeat TTL (2 s) while another worker's maintenance looks for abandoned jobs: it is never taken
    for abandoned, runs once, and the next one is stopped by a stop command."""
    long_id = ("j" * length)[:length]
    stopped_id = long_id[:-1] + "s"
    queue = Queue("default", connection=connection)
    queue.enqueue("tests.fixtures.record", "runs", sleep=4, job_id=long_id, retry=Retry(max=1))
    queue.enqueue("tests.fixtures.record", "runs", sleep=30, job_id=stopped_id, retry=Retry(max=1))
    done = threading.Event()

    def other_worker(client: Redis) -> None:
        registry = StartedJobRegistry("default", connection=client)
        while not done.wait(0.25):
            registry.cleanup()  # what another worker's maintenance does: fail what it finds abandoned
            if _started(client, stopped_id):
                send_stop_job_command(client, stopped_id)
                wait_for(lambda: not _started(client, stopped_id), 20, "the stop to land")

    thread = _meanwhile(redis_url, other_worker)
    caplog.set_level(logging.WARNING, logger="taskyard")
    try:
        prefork_worker(connection, settings, abandon_after=2).work(burst=True)
    finally:
        done.set()
        thread.join(10)

    assert [r.decode() for r in connection.lrange("runs", 0, -1)] == [long_id]
    assert Job.fetch(long_id, connection=connection).get_status() == "finished"
    assert Job.fetch(stopped_id, connection=connection).get_status() == "stopped"
    assert long_id not in FailedJobRegistry("default", connection=connection)  # RQ files stopped jobs there
    assert [r.getMessage() for r in caplog.records if "heartbeat" in r.getMessage()] == []


def test_heartbeats_of_a_long_job_keep_the_worker_record(
    connection: Redis, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A job longer than the heartbeat interval: every heartbeat is a whole-second EXPIRE Redis accepts
    (no error logged), and the worker's record keeps its queues, pid and birth date throughout."""
    job = Queue("default", connection=connection).enqueue("tests.fixtures.record", "runs", sleep=3.5)
    caplog.set_level(logging.WARNING)
    worker = prefork_worker(connection, settings, abandon_after=2)
    beats: list[dict[bytes, bytes]] = []
    original = worker.maintain_heartbeats

    def watched(*args: object) -> None:
        original(*args)  # type: ignore[arg-type]
        beats.append(connection.hgetall(worker.key))

    worker.maintain_heartbeats = watched  # type: ignore[method-assign]
    worker.work(burst=True)

    assert job.get_status() == "finished"
    assert len(beats) >= 2
    for record in beats:
        assert record[b"queues"] == b"default"
        assert record[b"pid"] and record[b"birth"]
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == [], [r.getMessage() for r in errors]


def test_undeserializable_jobs_fail_at_once_and_the_worker_goes_on(
    connection: Redis, settings: Settings
) -> None:
    """A job stored with another serializer, and one whose argument class only its client has, fail
    with RQ's DeserializationError on their first attempt; the job after them runs."""
    other = Queue("default", connection=connection, serializer=JSONSerializer).enqueue(
        "tests.fixtures.add", 1, 2, retry=Retry(max=2)
    )
    client_only = types.ModuleType("client_only_models")

    class Order:
        pass

    Order.__module__ = client_only.__name__
    Order.__qualname__ = "Order"
    client_only.Order = Order  # type: ignore[attr-defined]
    sys.modules[client_only.__name__] = client_only
    try:
        data = pickle.dumps(("tests.fixtures.add", None, (Order(), 1), {}))
    finally:
        del sys.modules[client_only.__name__]
    foreign = Queue("default", connection=connection).enqueue("tests.fixtures.add", 0, 0)
    connection.hset(foreign.key, "data", data)
    after = Queue("default", connection=connection).enqueue("tests.fixtures.add", 2, 3)

    prefork_worker(connection, settings).work(burst=True)

    for job_id in (other.id, foreign.id):
        assert Job.fetch(job_id, connection=connection).get_status() == "failed"
        assert "DeserializationError" in failure_reason(connection, job_id)
    assert after.get_status() == "finished" and after.return_value() == 5


def test_canceling_a_running_parent_keeps_its_dependents_deferred(
    connection: Redis, settings: Settings, redis_url: str
) -> None:
    queue = Queue("default", connection=connection)
    parent = queue.enqueue("tests.fixtures.record", "runs", sleep=1.5)
    child = queue.enqueue("tests.fixtures.record", "runs", depends_on=parent)

    def cancel(client: Redis) -> None:
        wait_for(lambda: _started(client, parent.id), 20, "the parent to start")
        Job.fetch(parent.id, connection=client).cancel()

    thread = _meanwhile(redis_url, cancel)
    prefork_worker(connection, settings).work(burst=True)
    thread.join(10)

    assert connection.lrange("runs", 0, -1) == [parent.id.encode()]
    assert child.get_status() == "deferred"


def test_meta_written_by_another_process_survives_the_failure(
    connection: Redis, settings: Settings, redis_url: str
) -> None:
    job = Queue("default", connection=connection).enqueue("tests.plain_rq.slow_fail", 1.5)

    def annotate(client: Redis) -> None:
        wait_for(lambda: _started(client, job.id), 20, "the job to start")
        seen = Job.fetch(job.id, connection=client)
        seen.meta["note"] = "written while it ran"
        seen.save_meta()

    thread = _meanwhile(redis_url, annotate)
    prefork_worker(connection, _allowing_plain_rq(redis_url)).work(burst=True)
    thread.join(10)

    meta = Job.fetch(job.id, connection=connection).get_meta()
    assert job.get_status() == "failed"
    assert meta["note"] == "written while it ran"
    assert meta["last_error"] == "ValueError: slow boom"


@pytest.mark.timeout(30)
def test_burst_mode_while_suspended_returns_and_leaves_the_work_queued(
    connection: Redis, settings: Settings
) -> None:
    job = Queue("default", connection=connection).enqueue("tests.fixtures.add", 1, 1)
    suspend(connection)
    try:
        assert prefork_worker(connection, settings).work(burst=True) is False
    finally:
        resume(connection)
    assert job.get_status() == "queued"
    assert Queue("default", connection=connection).job_ids == [job.id]


def test_dequeue_strategy_round_robin_alternates_queues(connection: Redis, settings: Settings) -> None:
    ids = {name: [] for name in ("first", "second")}
    for name in ids:
        for _ in range(3):
            ids[name].append(Queue(name, connection=connection).enqueue("tests.fixtures.record_run").id)

    prefork_worker(connection, settings, queues=("first", "second")).work(
        burst=True, dequeue_strategy="round_robin"
    )

    order = [r.decode() for r in connection.lrange("test:runs", 0, -1)]
    assert order == [job_id for pair in zip(ids["first"], ids["second"], strict=True) for job_id in pair]


def test_default_strategy_drains_queues_in_priority_order(connection: Redis, settings: Settings) -> None:
    first = [Queue("first", connection=connection).enqueue("tests.fixtures.record_run").id for _ in range(2)]
    second = [
        Queue("second", connection=connection).enqueue("tests.fixtures.record_run").id for _ in range(2)
    ]

    prefork_worker(connection, settings, queues=("first", "second")).work(burst=True)

    assert [r.decode() for r in connection.lrange("test:runs", 0, -1)] == first + second


def test_an_unknown_dequeue_strategy_is_refused(connection: Redis, settings: Settings) -> None:
    with pytest.raises(ValueError, match="dequeue strategy"):
        prefork_worker(connection, settings).work(burst=True, dequeue_strategy="fastest")


def test_enqueued_through_our_api_still_runs_with_a_long_id(connection: Redis, settings: Settings) -> None:
    job = enqueue(connection, settings, JobRequest("tests.add", args=(1, 2), job_id="a" * 300)).job
    prefork_worker(connection, settings).work(burst=True)
    assert job.get_status() == "finished" and job.return_value() == 3


def test_module_globals_persist_in_a_long_lived_horse(connection: Redis, redis_url: str) -> None:
    """The documented difference from stock RQ: one horse runs both jobs, so the global counts to 2."""
    queue = Queue("default", connection=connection)
    jobs = [queue.enqueue("tests.plain_rq.count_calls") for _ in range(2)]
    prefork_worker(connection, _allowing_plain_rq(redis_url)).work(burst=True)
    assert [job.return_value() for job in jobs] == [1, 2]


def test_an_isolated_queue_runs_each_job_in_a_fresh_horse(connection: Redis, redis_url: str) -> None:
    """WORKER_ISOLATED_QUEUES: RQ's fork per job for that queue, 1, 1, 1 as stock RQ gives; a shared
    queue beside it keeps its long-lived horse."""
    isolated, shared = Queue("legacy", connection=connection), Queue("default", connection=connection)
    legacy_jobs, shared_jobs = [], []
    for _ in range(3):
        shared_jobs.append(shared.enqueue("tests.plain_rq.count_calls"))
        legacy_jobs.append(isolated.enqueue("tests.plain_rq.count_calls"))
    settings = load_settings(
        {
            **TEST_ENV,
            "REDIS_URL": redis_url,
            "RQ_ALLOWED_FUNCTIONS": "tests.plain_rq",
            "WORKER_ISOLATED_QUEUES": "legacy",
        }
    )
    prefork_worker(connection, settings, queues=("legacy", "default")).work(burst=True)
    assert [job.return_value() for job in legacy_jobs] == [1, 1, 1]
    assert [job.return_value() for job in shared_jobs] == [1, 2, 3]
    assert connection.llen("rq:queue:legacy:intermediate") == 0


def test_an_untouched_large_mapping_fits_under_the_default_memory_cap(
    connection: Redis, redis_url: str, settings: Settings
) -> None:
    """The cap (JOB_MEMORY_LIMIT_MB, 2048 by default) is on private memory, not address space: mapping
    3 GB without touching it costs nothing and succeeds."""
    assert settings.worker.memory_limit_mb == 2048
    job = Queue("default", connection=connection).enqueue("tests.plain_rq.map_untouched", 3)
    prefork_worker(connection, _allowing_plain_rq(redis_url)).work(burst=True)
    assert job.get_status() == "finished", failure_reason(connection, job.id)
    assert job.return_value() == 3 << 30


@pytest.mark.timeout(60)
def test_max_idle_time_stops_an_idle_worker(connection: Redis, settings: Settings) -> None:
    job = Queue("default", connection=connection).enqueue("tests.fixtures.add", 2, 2)
    assert prefork_worker(connection, settings).work(max_idle_time=1) is True
    assert job.return_value() == 4
