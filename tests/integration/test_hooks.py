"""Lifecycle hooks fire once per attempt with the right event, through a real worker run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis

from jobs.enqueue import JobRequest, enqueue
from jobs.hooks import JobEvent, hooks
from jobs.settings import Settings
from tests.conftest import run_worker


@pytest.fixture
def events() -> Iterator[list[tuple[str, str, str | None]]]:
    seen: list[tuple[str, str, str | None]] = []

    def record(event: JobEvent) -> None:
        seen.append((event.event, event.task, event.error))

    hooks.subscribe()(record)
    yield seen
    hooks.unsubscribe(record)


def test_events_for_success_retry_and_failure(
    connection: Redis, settings: Settings, events: list, tmp_counter: str
) -> None:
    enqueue(connection, settings, JobRequest("tests.add", args=(1, 2)))
    enqueue(connection, settings, JobRequest("tests.fail", kwargs={"message": "x"}))
    run_worker(connection)
    assert events == [
        ("started", "tests.add", None),
        ("finished", "tests.add", None),
        ("started", "tests.fail", None),
        ("failed", "tests.fail", "ValueError: x"),
    ]
    events.clear()
    flaky = JobRequest("tests.flaky", kwargs={"counter_file": tmp_counter, "failures": 1}, max_retries=1)
    enqueue(connection, settings, flaky)
    run_worker(connection)
    assert events == [
        ("started", "tests.flaky", None),
        ("retrying", "tests.flaky", "RuntimeError: attempt 1 fails"),
    ]


def test_a_failing_subscriber_does_not_fail_the_job(connection: Redis, settings: Settings) -> None:
    def broken(event: JobEvent) -> None:
        raise RuntimeError("hook bug")

    hooks.subscribe("finished")(broken)
    try:
        job = enqueue(connection, settings, JobRequest("tests.add", args=(2, 2))).job
        run_worker(connection)
        assert job.get_status() == "finished"
        assert job.return_value() == 4
    finally:
        hooks.unsubscribe(broken)
