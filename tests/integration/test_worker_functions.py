"""Which functions the worker runs (the allow-list), and registered tasks enqueued from plain RQ code by
their task name, running with the task's policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis
from rq import Callback, Queue, Retry
from rq.job import Job

from jobs.settings import Settings, load_settings
from jobs.worker import TaskyardSimpleWorker
from tests.conftest import TEST_ENV, prefork_worker
from tests.e2e.fault_support import failure_reason

pytestmark = pytest.mark.usefixtures("restore_signals")


def _run(connection: Redis, settings: Settings) -> None:
    prefork_worker(connection, settings).work(burst=True)


def _allowing(redis_url: str, prefixes: str) -> Settings:
    return load_settings({**TEST_ENV, "REDIS_URL": redis_url, "RQ_ALLOWED_FUNCTIONS": prefixes})


def test_a_function_that_is_not_admitted_fails_with_the_reason_and_never_runs(
    connection: Redis, settings: Settings, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    queue = Queue("default", connection=connection)
    system = queue.enqueue("os.system", f"touch {marker}", retry=Retry(max=2))
    plain = queue.enqueue("tests.plain_rq.shout", "hi")
    after = queue.enqueue("tests.fixtures.add", 1, 1)

    _run(connection, settings)

    assert not marker.exists()
    for job in (system, plain):
        assert job.get_status() == "failed"
        reason = failure_reason(connection, job.id)
        assert "FunctionRefused" in reason and job.func_name in reason and "RQ_ALLOWED_FUNCTIONS" in reason
    assert system.retries_left == 2  # a refusal is final: no retry was used
    assert after.get_status() == "finished"


def test_plain_rq_functions_run_under_an_allowed_module_prefix(connection: Redis, redis_url: str) -> None:
    queue = Queue("default", connection=connection)
    job = queue.enqueue("tests.plain_rq.shout", "hi", on_success=Callback("tests.plain_rq.on_success"))
    lookalike = queue.enqueue("tests.plain_rq_other.shout", "hi")

    _run(connection, _allowing(redis_url, "tests.plain_rq"))

    assert job.get_status() == "finished" and job.return_value() == "HI"
    assert lookalike.get_status() == "failed"  # a prefix ends at a dot: plain_rq_other is not plain_rq
    assert "FunctionRefused" in failure_reason(connection, lookalike.id)


def test_a_callback_outside_the_allow_list_is_refused(connection: Redis, settings: Settings) -> None:
    job = Queue("default", connection=connection).enqueue(
        "tests.fixtures.add", 1, 2, on_failure=Callback("os.abort")
    )
    _run(connection, settings)
    assert job.get_status() == "failed"
    assert "os.abort" in failure_reason(connection, job.id)


def test_star_admits_every_function_as_stock_rq_does(connection: Redis, redis_url: str) -> None:
    job = Queue("default", connection=connection).enqueue("os.path.join", "a", "b")
    _run(connection, _allowing(redis_url, "*"))
    assert job.return_value() == "a/b"


def test_a_task_name_is_a_function_for_plain_rq_code(connection: Redis, settings: Settings) -> None:
    job = Queue("default", connection=connection).enqueue("system.echo", x=1)
    _run(connection, settings)
    assert job.get_status() == "finished" and job.return_value() == {"x": 1}
    stored = Job.fetch(job.id, connection=connection)
    assert stored.func_name == "system.echo"  # what the client stored is left as it was


def test_a_task_enqueued_by_name_gets_the_tasks_retry_policy(
    connection: Redis, settings: Settings, tmp_counter: str
) -> None:
    """tests.flaky retries 3 times, 1 s apart: a plain RQ job without Retry gets that policy."""
    job = Queue("default", connection=connection).enqueue("tests.flaky", tmp_counter, 5)
    _run(connection, settings)
    stored = Job.fetch(job.id, connection=connection)
    assert stored.get_status() == "scheduled"
    assert stored.retries_left == 2
    assert stored.meta["task"] == "tests.flaky"


def test_a_callers_own_retry_wins_over_the_tasks(
    connection: Redis, settings: Settings, tmp_counter: str
) -> None:
    job = Queue("default", connection=connection).enqueue("tests.flaky", tmp_counter, 5, retry=Retry(max=1))
    _run(connection, settings)
    assert Job.fetch(job.id, connection=connection).retries_left == 0


def test_a_task_enqueued_by_name_gets_the_tasks_timeout(connection: Redis, settings: Settings) -> None:
    """tests.hang declares a 1 s timeout; RQ's default (180 s) would let it hang for its full minute."""
    job = Queue("default", connection=connection).enqueue("tests.hang", 60)
    _run(connection, settings)
    assert job.get_status() == "failed"
    assert "JobTimeoutException" in failure_reason(connection, job.id)


def test_the_simple_worker_applies_the_same_rules(connection: Redis, settings: Settings) -> None:
    queue = Queue("default", connection=connection)
    named, refused = queue.enqueue("system.echo", y=2), queue.enqueue("os.getcwd")
    TaskyardSimpleWorker([queue], connection=connection, settings=settings).work(burst=True)
    assert named.return_value() == {"y": 2}
    assert "FunctionRefused" in failure_reason(connection, refused.id)


def test_the_admitted_runner_is_the_schedulers() -> None:
    from jobs.worker.admission import RUNNER
    from scheduler.runner import RUNNER as SCHEDULER_RUNNER

    assert RUNNER == SCHEDULER_RUNNER


def test_rq_scheduler_code_can_name_a_task(connection: Redis, settings: Settings) -> None:
    """rq-scheduler's client with a task name as the function: our scheduler moves it, the worker runs
    the task."""
    import time
    from datetime import timedelta

    from rq_scheduler import Scheduler

    from scheduler.engine import Engine

    job = Scheduler(connection=connection).enqueue_in(timedelta(seconds=1), "system.echo", x=1)
    engine = Engine(connection, settings)
    deadline = time.monotonic() + 15
    while Job.fetch(job.id, connection=connection).get_status() != "finished":
        assert time.monotonic() < deadline, "the rq-scheduler job never ran"
        engine.tick()
        TaskyardSimpleWorker(
            [Queue("default", connection=connection)], connection=connection, settings=settings
        ).work(burst=True)
        time.sleep(0.05)
    done = Job.fetch(job.id, connection=connection)
    assert done.return_value() == {"x": 1}


def test_instance_methods_are_judged_by_their_class(
    connection: Redis, settings: Settings, redis_url: str
) -> None:
    from tests.plain_rq import Greeter

    queue = Queue("default", connection=connection)
    refused = queue.enqueue(Greeter("a").greet)
    _run(connection, settings)
    assert "tests.plain_rq.Greeter.greet" in failure_reason(connection, refused.id)
    allowed = queue.enqueue(Greeter("b").greet)
    _run(connection, _allowing(redis_url, "tests.plain_rq"))
    assert allowed.return_value() == "hello b"
