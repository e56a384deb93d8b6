"""A client written from the scheduled-tasks design note works against /admin/scheduler unchanged.

Each test quotes the line of the note it checks. Real Redis, the real engine, a real (burst) worker.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from jobs.logs import JsonFormatter
from jobs.settings import Settings
from scheduler.engine import Engine
from tests.conftest import ApiClient, executions, fire_and_work, run_worker
from tests.conftest import create_task as create


@pytest.fixture
def engine(connection: Redis, settings: Settings) -> Iterator[Engine]:
    yield Engine(connection, settings, name="note-engine")


# --- a handler's {success: false} -------------------------------------------------------------------
def test_a_handler_returning_success_false_is_a_failed_attempt(
    api: ApiClient, connection: Redis, engine: Engine
) -> None:
    """The design note for scheduled tasks shows a handler that catches its error and returns
    ``return { success: false, error: error.message };``; "When a task fails, the system ... After
    reaching the maximum retry count, marks the task as `failed`"."""
    task = create(api, handler="tests.report", params={"success": False}, maxRetries=1, retryDelay=0)
    fire_and_work(engine, connection)  # the retry (delay 0) goes straight back on the queue
    done = api.get(f"/admin/scheduler/{task['id']}").get_json()
    assert done["status"] == "failed"
    assert done["lastExecution"]["error"].endswith("HandlerReportedFailure: disk full")
    assert [e["status"] for e in executions(api, task["id"])] == ["failed", "retry-scheduled"]
    dead = api.get("/admin/scheduler/dead-letters").get_json()["items"]
    assert [d["taskId"] for d in dead] == [task["id"]]


def test_a_handler_returning_success_true_completes(
    api: ApiClient, connection: Redis, engine: Engine
) -> None:
    """The note's handler on success: ``return { success: true, message: 'Task completed successfully' };``"""
    task = create(api, handler="tests.report", params={"success": True})
    fire_and_work(engine, connection)
    assert api.get(f"/admin/scheduler/{task['id']}").get_json()["status"] == "completed"
    assert executions(api, task["id"])[0]["result"]["success"] is True


def test_a_job_of_a_registered_task_reporting_failure_fails_but_a_plain_rq_job_does_not(
    api: ApiClient, connection: Redis
) -> None:
    """The same contract for jobs enqueued over the REST API (``return { success: false, error }``
    fails the attempt, retries included); a plain RQ job returning the same dict keeps RQ's meaning."""
    created = api.post("/api/v1/jobs", json={"task": "tests.report", "kwargs": {"success": False}})
    plain = Queue("default", connection=connection).enqueue("tests.fixtures.plain_report")
    run_worker(connection)
    job = api.get(created.get_json()["url"]).get_json()
    assert job["status"] == "failed"
    assert job["id"] in FailedJobRegistry("default", connection=connection)
    assert Job.fetch(job["id"], connection=connection).retries_left == 0  # it was retried first
    assert plain.get_status(refresh=True).value == "finished"
    assert plain.return_value() == {"success": False, "error": "disk full"}


# --- params checked at creation ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"olderThan": 30, "dryRun": False, "olderthen": 1}, "unknown params olderthen"),
        ({"a": 1}, "missing required params b"),
        ({"a": 1, "b": 2, "c": 3}, "unknown params c"),
    ],
)
def test_params_are_checked_against_the_handler_when_the_task_is_created(
    api: ApiClient, params: dict, fragment: str
) -> None:
    """The note: "Task parameters are sanitized before execution" and "Pass configuration as parameters":
    a parameter the handler does not take, or a required one left out, is refused at creation."""
    handler = "cleanup-logs" if "olderThan" in params else "tests.add"
    response = api.post(
        "/admin/scheduler", json={"name": "p", "handler": handler, "params": params, "schedule": "@every 1h"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_params"
    assert fragment in response.get_json()["error"]["message"]
    assert api.get("/admin/scheduler").get_json()["total"] == 0
    task = create(api, name="ok", schedule="@every 1h")
    assert api.put(f"/admin/scheduler/{task['id']}", json={"params": params}).status_code == 400


# --- stored and returned fields ---------------------------------------------------------------------
def test_the_daily_cleanup_example_works_as_written(api: ApiClient, connection: Redis) -> None:
    """The note's "Creating a Daily Cleanup Task with Retries" body, verbatim:
    ``"handler": "cleanup-logs", "params": {"olderThan": 30, "dryRun": false}, "schedule": "0 3 * * *"``."""
    body = {
        "name": "daily-cleanup",
        "description": "Remove old logs and temporary files daily",
        "handler": "cleanup-logs",
        "params": {"olderThan": 30, "dryRun": False},
        "schedule": "0 3 * * *",
        "recurring": True,
        "maxRetries": 3,
        "retryDelay": 300000,
    }
    response = api.post("/admin/scheduler", json=body)
    assert response.status_code == 201, response.get_json()
    task = response.get_json()
    assert (task["handler"], task["scheduleType"], task["period"]) == ("cleanup-logs", "recurring", "daily")
    run = api.post(f"/admin/scheduler/{task['id']}/actions/run")
    assert run.status_code == 202
    run_worker(connection)
    (execution,) = executions(api, task["id"])
    assert execution["status"] == "completed" and execution["result"]["dry_run"] is False


def test_an_application_handler_name_gets_a_400_that_says_how_to_register_it(api: ApiClient) -> None:
    """The note's one-time example names the application's own handler: ``"handler": "generate-report"``."""
    response = api.post(
        "/admin/scheduler",
        json={
            "name": "generate-monthly-report",
            "handler": "generate-report",
            "schedule": "now",
            "params": {"reportType": "sales"},
            "recurring": False,
        },
    )
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "generate-report" in message and "@task(" in message and "TASK_MODULES" in message


@pytest.mark.parametrize(
    ("schedule", "schedule_type", "period"),
    [
        ("now", "now", None),
        ("@after 1h", "once", None),
        ("@every 5m", "interval", None),
        ("30 * * * *", "recurring", "hourly"),
        ("0 8 * * *", "recurring", "daily"),
        ("0 9 * * 1", "recurring", "weekly"),
        ("0 0 1 * *", "recurring", "monthly"),
        ("EVERY_DAY_AT_MIDNIGHT", "recurring", "daily"),
        ("*/30 * * * *", "cron", None),
    ],
)
def test_schedule_type_and_period(
    api: ApiClient, schedule: str, schedule_type: str, period: str | None
) -> None:
    """The note: "Run tasks immediately, hourly, daily, weekly, or monthly", e.g. "30 * * * *" for
    30 minutes past each hour, "0 8 * * *" daily, "0 9 * * 1" every Monday, "0 0 1 * *" the 1st of each
    month; its stored task carries ``"scheduleType"`` and ``"period"``."""
    task = create(api, schedule=schedule)
    assert (task["scheduleType"], task["period"]) == (schedule_type, period)


def test_the_stored_task_fields_of_the_note(api: ApiClient, connection: Redis, engine: Engine) -> None:
    """The note's database schema: ``"_key": "task-123"``, ``"lastRetry": null``, ``"nextRun":
    1625097600000``, ``"createdAt"``, ``"updatedAt"``, and ``"executions": [{"id", "taskId", "status",
    "startTime", "duration", "error", "createdAt"}]``; times are epoch milliseconds."""
    before = time.time() * 1000
    task = create(api, schedule="@every 1h")
    assert task["_key"] == task["id"] and task["lastRetry"] is None and task["executions"] == []
    for key in ("nextRun", "createdAt", "updatedAt"):
        assert isinstance(task[key], int) and task[key] >= before - 1000
    api.post(f"/admin/scheduler/{task['id']}/actions/run")
    run_worker(connection)
    shown = api.get(f"/admin/scheduler/{task['id']}").get_json()
    (execution,) = shown["executions"]
    assert execution["taskId"] == task["id"] and execution["status"] == "completed"
    assert isinstance(execution["startTime"], int) and execution["createdAt"] == execution["startTime"]
    assert execution["startTime"] >= before
    assert shown["executions"] == executions(api, task["id"])
    listed = api.get("/admin/scheduler").get_json()["items"]
    assert listed[0]["executions"] == shown["executions"]


def test_a_completed_one_time_task_keeps_the_time_it_ran(
    api: ApiClient, connection: Redis, engine: Engine
) -> None:
    """The note: "One-time Tasks: Execute at a specific time and then complete"; the task keeps
    ``lastExecution.time`` and ``lastRun`` (epoch ms) once it has no next run."""
    task = create(api)
    fire_and_work(engine, connection)
    done = api.get(f"/admin/scheduler/{task['id']}").get_json()
    assert done["status"] == "completed" and done["nextRun"] is None
    (execution,) = executions(api, task["id"])
    assert done["lastRun"] == execution["startTime"] == done["lastExecution"]["time"]
    assert done["lastRun"] >= task["createdAt"]


# --- log lines --------------------------------------------------------------------------------------
def test_task_log_lines_in_text_and_json(
    api: ApiClient, connection: Redis, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """The task-scheduling design note logs ``this.logger.debug("Starting webhook retry task...")``,
    ``this.logger.debug("Webhook retry task completed successfully")``, ``this.logger.error("Webhook
    retry task failed:", error)``, with durations (``Task completed in ${duration}ms``)."""
    create(api, name="nightly", schedule="now")
    create(api, name="broken", handler="tests.fail", params={"message": "down"})
    with caplog.at_level(logging.DEBUG, logger="taskyard.tasks"):
        assert engine.fire_due() == 2
        run_worker(connection)
    records = [r for r in caplog.records if r.name == "taskyard.tasks"]
    lines = {(r.levelname, r.getMessage().split(" in ")[0].split(" after ")[0]) for r in records}
    assert ("DEBUG", "Starting nightly task...") in lines
    assert ("DEBUG", "nightly task completed successfully") in lines
    assert ("ERROR", "broken task failed") in lines
    failed = next(r for r in records if r.levelname == "ERROR")
    assert "ValueError: down" in failed.getMessage() and "ms" in failed.getMessage()
    entry = json.loads(JsonFormatter().format(failed))
    assert (entry["level"], entry["task"], entry["event"]) == ("ERROR", "broken", "failed")
    assert isinstance(entry["duration_ms"], float)


def test_an_execution_stored_before_created_at_existed_answers_its_start_time(
    api: ApiClient, connection: Redis
) -> None:
    """The note's execution record carries ``"createdAt": 1625097600000`` beside ``"startTime"``: records
    kept from before Taskyard stored it answer their start time (the schema requires the field)."""
    from jobs import keys

    task = create(api, schedule="@every 1h")
    old = {"id": "exec-456", "taskId": task["id"], "jobId": None, "status": "completed",
           "startTime": 1625097600000, "duration": 1520, "error": None, "result": None, "attempt": 1}  # fmt: skip
    connection.hset(keys.sched_executions(task["id"]), "exec-456", json.dumps(old))
    connection.zadd(keys.sched_execution_order(task["id"]), {"exec-456": old["startTime"]})
    (shown,) = executions(api, task["id"])
    assert shown["createdAt"] == 1625097600000
    assert api.get(f"/admin/scheduler/{task['id']}").get_json()["executions"] == [shown]
