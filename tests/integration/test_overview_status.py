"""The overview answers "is everything OK?": verdict, queue latency, rates per minute, failures by task."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from redis import Redis

from jobs.enqueue import JobRequest, enqueue
from jobs.metrics import Counts, read_minutes
from jobs.settings import Settings
from tests.conftest import ADMIN_TOKEN, run_worker
from tests.web_login import login
from web.read_model import status


def test_rates_count_per_minute_and_sum_over_the_hour_and_day(connection: Redis) -> None:
    now = datetime(2026, 12, 2, 12, 30, 30, tzinfo=UTC)
    for at, event, n in [(now, "finished", 3), (now - timedelta(minutes=5), "failed", 2),
                         (now - timedelta(hours=3), "finished", 7), (now - timedelta(days=2), "failed", 9)]:  # fmt: skip
        counts = Counts()
        for _ in range(n):
            counts.add(event, "tests.add", "default")
        with connection.pipeline() as pipe:
            counts.queue_into(pipe, now=at.timestamp())
            pipe.execute()
    minute = int(now.timestamp() // 60)
    assert read_minutes(connection, minute, minute) == {minute: {"enqueued": 0, "finished": 3, "failed": 0}}
    rates = status.rates(connection, now)
    assert len(rates["hour"]) == 60 and len(rates["day"]) == 24
    assert rates["hour"][-1]["finished"] == 3 and rates["hour"][-6]["failed"] == 2
    assert rates["last_hour"] == {"enqueued": 0, "finished": 3, "failed": 2}
    assert rates["last_day"] == {"enqueued": 0, "finished": 10, "failed": 2}  # two days ago is out
    assert connection.ttl(f"taskyard:metrics:minute:{minute}") > 24 * 3600


def test_overview_shows_latency_failures_by_task_and_the_verdict(
    app: Flask, connection: Redis, settings: Settings
) -> None:
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    for i in range(3):
        enqueue(connection, settings, JobRequest("tests.fail", kwargs={"message": f"m{i}"}))
    run_worker(connection)
    waiting = enqueue(connection, settings, JobRequest("tests.add", args=(1, 2))).job
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'data-verdict="degraded"' in page and "no worker is running" in page  # none runs here
    assert re.search(r'data-failed-task="tests.fail"><td><a [^>]+>tests.fail</a></td><td>3<', page)
    assert re.search(r'data-figure="failed-hour">3<', page)
    assert f'href="/dashboard/jobs/{waiting.id}"' in page  # the oldest waiting job, with its age
    latency = status.queue_latency(connection, ("default", "high"), datetime.now(UTC) + timedelta(seconds=30))
    assert latency[0]["oldest_id"] == waiting.id and latency[0]["latency"] >= 30
    assert latency[1] == {
        "name": "high",
        "queued": 0,
        "oldest_id": None,
        "oldest_enqueued_at": None,
        "latency": None,
    }
