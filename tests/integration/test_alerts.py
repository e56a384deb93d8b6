"""Alerts: a burst of failures fires one alert per window to a real HTTP receiver (Slack-compatible
JSON); missed schedules alert once per window too."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis

from jobs import keys
from jobs.enqueue import JobRequest, enqueue
from jobs.handler_context import use_settings
from jobs.maintenance.alerts import count_failure
from jobs.settings import Settings, load_settings
from tests.conftest import TEST_ENV, run_worker
from tests.receivers import Receiver, fail_then_succeed, serve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve(fail_then_succeed(0)) as running:
        yield running


@pytest.fixture
def alert_settings(redis_url: str, receiver: Receiver) -> Iterator[Settings]:
    env = {
        **TEST_ENV,
        "REDIS_URL": redis_url,
        "ALERT_WEBHOOK_URL": receiver.url,
        "ALERT_FAILURE_THRESHOLD": "10",
    }
    with use_settings(load_settings(env)) as settings:
        yield settings


def test_a_burst_of_failures_alerts_exactly_once(
    connection: Redis, alert_settings: Settings, receiver: Receiver
) -> None:
    for i in range(25):
        enqueue(connection, alert_settings, JobRequest("tests.fail", kwargs={"message": f"boom {i}"}))
    run_worker(connection)  # runs the 25 failures, then the alert delivery the 10th one queued
    (received,) = receiver.wait_for(1)
    body = received.json()
    assert body["text"] == "Taskyard: task tests.fail failed 10 times within 300 s"
    assert {"title": "task", "value": "tests.fail", "short": True} in body["attachments"][0]["fields"]
    # more failures in the same window: still one alert
    for _ in range(5):
        enqueue(connection, alert_settings, JobRequest("tests.fail"))
    run_worker(connection)  # a second alert's delivery would have run (and POSTed) inside this burst
    assert len(receiver.requests) == 1
    assert connection.llen(keys.ALERT_RECENT) == 1


def test_below_the_threshold_no_alert_and_windows_are_separate(
    connection: Redis, alert_settings: Settings
) -> None:
    window = alert_settings.alerts.window
    start = 1_000 * window  # the start of a window
    fired = [count_failure(connection, alert_settings, "tests.x", now=start + i) for i in range(9)]
    assert not any(fired)
    assert count_failure(connection, alert_settings, "tests.x", now=start + 9)  # the 10th
    assert not count_failure(connection, alert_settings, "tests.x", now=start + 10)
    # the next window counts from zero and may alert again
    later = [count_failure(connection, alert_settings, "tests.x", now=start + window + i) for i in range(10)]
    assert later == [False] * 9 + [True]


def test_missed_schedule_alerts_once_per_window(
    connection: Redis, alert_settings: Settings, receiver: Receiver
) -> None:
    """The scheduler leader finds a recurring task past its deadline and alerts once per window."""
    from datetime import UTC, datetime, timedelta

    from scheduler import health
    from scheduler.engine import Engine
    from scheduler.store import TaskStore
    from scheduler.tasks import Definition

    task = TaskStore(connection).create(
        Definition("nightly-report", "system.echo", "0 3 * * *"), datetime.now(UTC)
    )
    health.expect(connection, task.id, datetime.now(UTC) - timedelta(minutes=2))
    clock = [time.time()]
    engine = Engine(connection, alert_settings, clock=lambda: clock[0])
    engine.tick()
    clock[0] += 10
    engine.tick()  # a second check within the window fires nothing more
    run_worker(connection)
    (received,) = receiver.wait_for(1)
    assert "nightly-report missed its schedule" in received.json()["text"]
    assert len(receiver.requests) == 1


def test_two_alerts_are_never_less_than_a_window_apart(connection: Redis, alert_settings: Settings) -> None:
    """A claim per fixed window index let an alert fire at 299.9 s and again at 300.1 s; the claim
    compares with the last firing instead (time from one controlled clock)."""
    from jobs.maintenance.alerts import Alert, fire_once

    window = alert_settings.alerts.window
    boundary = 1_000 * window
    alert = Alert(rule="failures", subject="tests.x", text="boom", window=window)
    assert fire_once(connection, alert_settings, alert, now=boundary - 0.1)
    assert not fire_once(connection, alert_settings, alert, now=boundary + 0.1)
    assert not fire_once(connection, alert_settings, alert, now=boundary + window - 0.2)
    assert fire_once(connection, alert_settings, alert, now=boundary + window - 0.1)
    assert connection.llen(keys.ALERT_RECENT) == 2
