"""Hostile input to /api/v1/jobs and /admin/scheduler gets a clear 4xx and leaves Redis as it was; text
that reaches the dashboard is escaped. Extends tests/unit/test_api_validation.py (job bodies on
fakeredis) and tests/integration/test_scheduler_api.py (a first set of bad tasks)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from redis import Redis

from tests.conftest import ADMIN_TOKEN, ApiClient, run_worker
from tests.web_login import login

GOOD_TASK = {"name": "bad", "handler": "tests.add", "params": {"a": 1, "b": 2}, "schedule": "@every 5m"}
SCRIPT = "<script>alert(1)</script>"


@contextmanager
def nothing_stored(connection: Redis) -> Iterator[None]:
    """Every key in Redis, and its value's size, is the same after the block as before it."""

    def snapshot() -> dict[bytes, int]:
        return {key: connection.memory_usage(key) or 0 for key in connection.scan_iter()}

    before = snapshot()
    yield
    after = snapshot()
    assert set(after) == set(before), f"keys written: {set(after) ^ set(before)}"
    assert after == before, "a value changed"


def assert_4xx(response, status: int, code: str | None, fragment: str = "") -> None:  # type: ignore[no-untyped-def]
    """A JSON error with ``status``, ``code`` (any when None) and ``fragment`` in its message."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert code is None or error["code"] == code, error
    assert fragment in error["message"] + str(error.get("details", "")), error


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        (
            {"task": "builtins.eval", "args": ["__import__('os').system('id')"]},
            "unknown_task",
            "builtins.eval",
        ),
        ({"task": "subprocess.run", "args": [["id"]]}, "unknown_task", "subprocess.run"),
        (
            {"task": "scheduler.runner.run_scheduled"},
            "unknown_task",
            "run_scheduled",
        ),  # importable, not a task
        ({"task": "' OR 1=1 --"}, "unknown_task", "OR 1=1"),
        ({"task": SCRIPT}, "unknown_task", "no task named"),
        ({"task": "system.echo", "queue": "default; DROP"}, "validation_error", "queue"),
        ({"task": "system.echo", "job_id": "report.2026"}, "validation_error", "job_id"),  # RQ refuses dots
        ({"task": "system.echo", "job_id": "a:b"}, "validation_error", "job_id"),
        ({"task": "system.echo", "job_id": "../../etc"}, "validation_error", "job_id"),
        ({"task": "system.echo", "delay_seconds": -0.5}, "validation_error", "delay_seconds"),
        ({"task": "system.echo", "delay_seconds": 10**12}, "validation_error", "delay_seconds"),
        ({"task": "system.echo", "run_at": "0001-01-01T00:00:00Z"}, "validation_error", "past"),
        ({"task": "system.echo", "run_at": "2030-01-01T00:00:00+25:00"}, "validation_error", "run_at"),
        ({"task": "system.echo", "timeout": -1}, "validation_error", "timeout"),
    ],
)
def test_hostile_job_bodies(api: ApiClient, connection: Redis, body: dict, code: str, fragment: str) -> None:
    with nothing_stored(connection):
        assert_4xx(api.post("/api/v1/jobs", json=body), 400, code, fragment)


def test_job_ids_that_rq_would_refuse_are_404_not_500(api: ApiClient, connection: Redis) -> None:
    with nothing_stored(connection):
        for job_id in ("z%0A", "a.b", "a:b", "%3Cscript%3E", "x" * 300):
            assert_4xx(api.get(f"/api/v1/jobs/{job_id}"), 404, "job_not_found")
            assert_4xx(api.delete(f"/api/v1/jobs/{job_id}"), 404, "job_not_found")
            assert_4xx(api.post(f"/api/v1/jobs/{job_id}/requeue"), 404, "job_not_found")
            assert_4xx(
                api.post(f"/admin/scheduler/dead-letters/{job_id}/replay"), 404, "dead_letter_not_found"
            )


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        # handlers that are import paths, or not names at all
        ({"handler": "builtins.eval"}, "no task named 'builtins.eval'"),
        ({"handler": "subprocess.run"}, "no task named"),
        ({"handler": "scheduler.runner.run_scheduled"}, "no task named"),
        ({"handler": "' OR 1=1 --"}, "no task named"),
        # cron fields out of range, in every position and both field orders
        ({"schedule": "0 24 * * *"}, "Bad hour"),
        ({"schedule": "0 0 32 * *"}, "Bad day-of-month"),
        ({"schedule": "0 0 0 * *"}, "Bad day-of-month"),
        ({"schedule": "0 0 30 2 *"}, "Bad day-of-month"),
        ({"schedule": "0 0 * 13 *"}, "Bad month"),
        ({"schedule": "0 0 * 0 *"}, "Bad month"),
        ({"schedule": "0 0 * * 8"}, "Bad day-of-week"),
        ({"schedule": "60 * * * * *"}, "Bad second"),
        ({"schedule": "-1 * * * *"}, "Bad minute"),
        ({"schedule": "*/0 * * * *"}, "Bad minute"),
        ({"schedule": "5-1 * * * *"}, "Bad minute"),
        ({"schedule": "* * * * * * *"}, "5 fields"),
        # intervals: zero, negative, absurdly long, not ASCII digits
        ({"schedule": "@every 0s"}, "at least 1s"),
        ({"schedule": "@every -5s"}, "bad duration"),
        ({"schedule": "@every 99999999999d"}, "longer than 10 years"),
        ({"schedule": "@every 99999999999999999999"}, "longer than 10 years"),
        ({"schedule": "@every \u00b2"}, "bad duration"),
        # one-time runs far in the past or future
        ({"schedule": "0001-01-01T00:00:00Z"}, "in the past"),
        ({"schedule": "99999-01-01T00:00:00Z"}, "invalid ISO 8601"),
        # negative delays
        ({"retryDelay": "-5s"}, "retryDelay"),
        ({"retryDelay": 10**20}, "between 0 and 7 days"),
        ({"backoff": ["-1m"]}, "backoff"),
        ({"maxRetries": -1}, "maxRetries"),
        # unknown time zones, paths and the server's own zone
        ({"timezone": "UTC+25"}, "unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "unknown time zone"),
        ({"timezone": "Europe/Berlin\u0000"}, "unknown time zone"),
        ({"timezone": "localtime"}, "unknown time zone"),
        ({"timezone": "posixrules"}, "unknown time zone"),
        # SQL and HTML in names
        ({"name": "x'; DROP TABLE tasks;--"}, "name"),
        ({"name": "Robert'); DROP TABLE Students;--"}, "name"),
        ({"name": "<img src=x onerror=alert(1)>"}, "name"),
    ],
)
def test_hostile_scheduled_tasks(api: ApiClient, connection: Redis, fields: dict, fragment: str) -> None:
    with nothing_stored(connection):
        assert_4xx(api.post("/admin/scheduler", json={**GOOD_TASK, **fields}), 400, None, fragment)


def test_hostile_updates_leave_the_task_as_it_was(api: ApiClient, connection: Redis) -> None:
    created = api.post("/admin/scheduler", json=GOOD_TASK)
    assert created.status_code == 201
    task_url = f"/admin/scheduler/{created.get_json()['id']}"
    before = api.get(task_url).get_json()
    with nothing_stored(connection):
        for fields, fragment in (
            ({"handler": "os.system"}, "no task named"),
            ({"schedule": "0 0 * 13 *"}, "Bad month"),
            ({"timezone": "Mars/Base"}, "unknown time zone"),
            ({"retryDelay": -1}, "retryDelay"),
            ({"name": "a'; --"}, "name"),
            ({"params": {"deep": _nested(40)}}, "nested"),
        ):
            assert_4xx(api.put(task_url, json=fields), 400, None, fragment)
    assert api.get(task_url).get_json() == before


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def _raw(api: ApiClient, method: str, url: str, body: bytes):  # type: ignore[no-untyped-def]
    return api.client.open(
        url, method=method, data=body, content_type="application/json", headers=api._headers(None)
    )


@pytest.mark.parametrize("target", ["/api/v1/jobs", "/admin/scheduler"])
def test_huge_nested_and_broken_bodies(api: ApiClient, connection: Redis, app: Flask, target: str) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    field = "kwargs" if target.endswith("jobs") else "params"
    prefix = (
        '{"task": "system.echo", '
        if target.endswith("jobs")
        else '{"name": "n", "handler": "tests.add", "schedule": "@every 5m", '
    )
    with nothing_stored(connection):
        huge = (prefix + f'"{field}": {{"x": "' + "a" * limit + '"}}').encode()
        assert_4xx(_raw(api, "POST", target, huge), 413, "request_entity_too_large")
        many = prefix + f'"{field}": {{' + ", ".join(f'"k{i}": {i}' for i in range(50_000)) + "}}"
        assert len(many) < limit
        response = _raw(api, "POST", target, many.encode())
        assert response.status_code in (400, 413), response.get_data(as_text=True)  # jobs: a task's own limit
        deep = prefix + f'"{field}": {{"x": ' + "[" * 100_000 + "]" * 100_000 + "}}"
        assert_4xx(_raw(api, "POST", target, deep.encode()), 400, "validation_error", "nested")
        assert_4xx(
            _raw(api, "POST", target, prefix.encode() + b'"name2": "\xc3\x28"}'), 400, "invalid_json", "UTF-8"
        )
        assert_4xx(_raw(api, "POST", target, b"\xff\xfe{}"), 400, "invalid_json", "UTF-8")
        for number in ("NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 400 + ".5"):
            body = prefix + f'"{field}": {{"x": {number}}}}}'
            assert_4xx(_raw(api, "POST", target, body.encode()), 400, "invalid_json", "number")


def test_the_dashboard_escapes_what_users_typed(app: Flask, api: ApiClient, connection: Redis) -> None:
    created = api.post(
        "/admin/scheduler",
        json={**GOOD_TASK, "name": "xss", "description": SCRIPT, "params": {"a": SCRIPT, "b": 1}},
    )
    assert created.status_code == 201
    task_id = created.get_json()["id"]
    failing = api.post("/api/v1/jobs", json={"task": "tests.fail", "kwargs": {"message": SCRIPT}})
    assert failing.status_code == 201
    run_worker(connection)

    client = app.test_client()
    login(client, ADMIN_TOKEN)
    pages = {
        "schedules": "/dashboard/schedules",
        "detail": f"/dashboard/schedules/{task_id}",
        "edit": f"/dashboard/schedules/{task_id}/edit",
        "dead letters": "/dashboard/dead-letters",
        "overview": "/dashboard/",
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        html = response.get_data(as_text=True)
        assert SCRIPT not in html, f"{name} page renders the script tag unescaped"
        assert not re.search(r"<script>alert", html, re.IGNORECASE), name
    edit = client.get(pages["edit"]).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in edit  # the description is there, escaped
    dead = client.get(pages["dead letters"]).get_data(as_text=True)
    assert "&lt;script&gt;" in dead  # the failure's message is shown, escaped
