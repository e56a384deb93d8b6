"""Alerts: a burst of failures fires one alert per window to a real HTTP receiver (Slack-compatible
JSON); missed schedules alert once per window too."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis

from jobs import keys
from jobs.alerts import count_failure, missed_schedule_alerts
from jobs.context import use_settings
from jobs.enqueue import JobRequest, enqueue
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
    window = alert_settings.alert_window
    start = 1_000 * window  # the start of a window
    fired = [count_failure(connection, alert_settings, "tests.x", now=start + i) for i in range(9)]
    assert not any(fired)
    assert count_failure(connection, alert_settings, "tests.x", now=start + 9)  # the 10th
    assert not count_failure(connection, alert_settings, "tests.x", now=start + 10)
    # the next window counts from zero and may alert again
    later = [count_failure(connection, alert_settings, "tests.x", now=start + window + i) for i in range(10)]
    assert later == [False] * 9 + [True]


def test_missed_schedule_alerts_once_per_window(connection: Redis, alert_settings: Settings) -> None:
    now = time.time()
    connection.hset(keys.sched_task("task-abc"), mapping={"name": "nightly-report"})
    connection.zadd(keys.SCHED_EXPECTED, {"task-abc": now - 120, "task-future": now + 600})
    assert missed_schedule_alerts(connection, alert_settings, now) == ["nightly-report"]
    assert missed_schedule_alerts(connection, alert_settings, now + 1) == []
