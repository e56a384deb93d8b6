"""A task's own missed-run window (the design notes' per-job maximum interval)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis

from jobs import keys
from jobs.settings import Settings
from scheduler.cron import parse_schedule
from scheduler.health import deadline
from tests.clock import Clock
from tests.conftest import ADMIN_TOKEN, ApiClient
from tests.waiting import wait_for
from web import create_app

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "window", "late_by"),
    [
        ("0 0 * * *", 25 * 3600, timedelta(hours=25)),  # 'dailyMaintenanceCheck': 25 * 60 * 60 * 1000
        ("0 */4 * * *", 5 * 3600, timedelta(hours=5)),  # 'syncCarData': 5 * 60 * 60 * 1000
        ("0 0 * * *", None, timedelta(hours=24, seconds=60)),  # no window: one period + the global grace
    ],
)
def test_the_window_replaces_period_plus_grace(
    schedule: str, window: float | None, late_by: timedelta
) -> None:
    """The background-jobs note's ``getMaxIntervalForJob``: ``'dailyMaintenanceCheck': 25 * 60 * 60 *
    1000 // 25 hours``, ``'syncCarData': 5 * 60 * 60 * 1000 // 5 hours``; the global grace stays the
    default (``return intervals[jobName] || 24 * 60 * 60 * 1000``)."""
    parsed = parse_schedule(schedule, now=NOW)
    assert deadline(parsed, NOW, 60.0, window) == NOW + late_by


def test_a_task_with_a_short_window_is_reported_missed(connection: Redis, settings: Settings) -> None:
    """``if (timeSinceLastRun > maxInterval && jobStatus.status !== 'running') unhealthyJobs.push(jobName)``:
    a task due every second and allowed 1 s without a success is missed a second after its first planned
    run; one without a window has a period plus the global grace (60 s)."""
    clock = Clock()
    api = ApiClient(create_app(settings, connection, clock=clock).test_client(), ADMIN_TOKEN)
    strict = api.post("/admin/scheduler", json={"name": "strict", "handler": "system.echo",
                                                 "schedule": "@every 1s", "maxInterval": "1s"})  # fmt: skip
    assert strict.status_code == 201, strict.get_json()
    assert strict.get_json()["maxInterval"] == 1000
    relaxed = api.post(
        "/admin/scheduler", json={"name": "relaxed", "handler": "system.echo", "schedule": "@every 1s"}
    )
    assert relaxed.get_json()["maxInterval"] is None
    clock.advance(3)  # past the first planned run and the 1 s window, well inside 60 s
    wait_for(
        lambda: api.get("/admin/scheduler/health").get_json()["missed"],
        30,
        "the strict task to be reported missed",
    )
    missed = api.get("/admin/scheduler/health").get_json()["missed"]
    assert [m["id"] for m in missed] == [strict.get_json()["id"]]


@pytest.mark.parametrize("value", [0, 500, "0s", "400d", "soon", True])
def test_a_bad_window_is_refused(api: ApiClient, value: object) -> None:
    """``maxInterval`` is a duration of at least a second and at most a year."""
    response = api.post(
        "/admin/scheduler",
        json={"name": "w", "handler": "system.echo", "schedule": "@every 1h", "maxInterval": value},
    )
    assert response.status_code == 400 and "maxInterval" in str(response.get_json()["error"])


def test_a_code_declared_schedule_declares_its_window(connection, settings) -> None:  # type: ignore[no-untyped-def]
    """``'dailyMaintenanceCheck': 25 * 60 * 60 * 1000``, declared beside the code as the note's
    ``@Cron('0 0 * * *') async dailyMaintenanceCheck()`` is: ``@task(..., max_interval=25 * 3600)``."""
    from jobs.registry import DeclaredSchedule, TaskRegistry, TaskSpec
    from scheduler import declared
    from scheduler.store import TaskStore

    tasks = TaskRegistry()
    tasks.add(TaskSpec("cars.daily_maintenance_check", lambda: None))
    tasks.declare(DeclaredSchedule("daily-maintenance", "cars.daily_maintenance_check", "0 0 * * *",
                                   max_interval=25 * 3600))  # fmt: skip
    assert declared.sync(connection, tasks, settings, NOW) is not None
    task = TaskStore(connection).get(declared.task_id(tasks.declared_schedules()[0]))
    assert task is not None and task.definition.max_interval == 25 * 3600 * 1000
    expected = connection.zscore(keys.SCHED_EXPECTED, task.id)
    assert task.next_run is not None and expected == task.next_run / 1000 + 25 * 3600


def test_changing_the_window_moves_the_deadline_at_once(api: ApiClient, connection) -> None:  # type: ignore[no-untyped-def]
    """``getMaxIntervalForJob`` is read at every check in the note, so a changed window applies now,
    not only after the task's next success."""
    task = api.post(
        "/admin/scheduler", json={"name": "hourly", "handler": "system.echo", "schedule": "@every 1h"}
    )
    created = task.get_json()
    default = connection.zscore(keys.SCHED_EXPECTED, created["id"])
    assert default == pytest.approx(created["nextRun"] / 1000 + 3600 + 60)
    changed = api.put(f"/admin/scheduler/{created['id']}", json={"maxInterval": "2h"})
    assert changed.status_code == 200 and changed.get_json()["maxInterval"] == 7_200_000
    assert connection.zscore(keys.SCHED_EXPECTED, created["id"]) == pytest.approx(
        created["nextRun"] / 1000 + 7200
    )
