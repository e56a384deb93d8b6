"""/admin/scheduler over REST on real Redis: creating (and refusing) tasks, their fields, updating,
listing, pausing, resuming, deleting, running now, and who may do what; a one-time task fired by the
real engine and run by a real (burst) worker."""

from __future__ import annotations

import time

import pytest
from redis import Redis

from scheduler.engine import Engine
from tests.clock import Clock
from tests.conftest import ApiClient, run_worker
from tests.conftest import create_task as create


def test_one_time_now_runs_and_completes(api: ApiClient, connection: Redis, engine: Engine) -> None:
    task = create(api)
    assert task["status"] == "active" and task["recurring"] is False
    engine.clock.catch_up()  # type: ignore[attr-defined]
    assert engine.fire_due() == 1
    assert engine.fire_due() == 0  # fired once, not again
    run_worker(connection)
    done = api.get(f"/admin/scheduler/{task['id']}").get_json()
    assert done["status"] == "completed"
    assert done["nextRun"] is None
    assert done["lastExecution"]["status"] == "completed"
    executions = api.get(f"/admin/scheduler/{task['id']}/executions").get_json()
    assert executions["total"] == 1
    assert executions["items"][0]["result"] == 3
    assert executions["items"][0]["attempt"] == 1


@pytest.mark.parametrize(
    ("fields", "status", "fragment"),
    [
        ({"handler": "os.system"}, 400, "handler"),
        ({"schedule": "61 * * * *"}, 400, "schedule: invalid cron"),
        ({"schedule": "* * * *"}, 400, "5 fields"),
        ({"schedule": "@every 5m", "timezone": "Mars/Base"}, 400, "timezone: unknown time zone"),
        ({"schedule": "2001-01-01T00:00:00Z"}, 400, "in the past"),
        ({"schedule": "9999-01-01T00:00:00Z"}, 400, "10 years"),
        ({"schedule": "now", "recurring": True}, 400, "cannot recur"),
        ({"retryDelay": -1}, 400, "retryDelay"),
        ({"maxRetries": 99}, 400, "maxRetries"),
        ({"backoff": ["1m", "soon"]}, 400, "backoff"),
        ({"name": "<script>alert(1)</script>"}, 400, "name"),
        ({"params": "x"}, 400, "params"),
        ({"surprise": True}, 400, "surprise"),
    ],
)
def test_bad_tasks_are_refused_and_not_stored(
    api: ApiClient, connection: Redis, fields: dict, status: int, fragment: str
) -> None:
    response = api.post(
        "/admin/scheduler", json={"name": "bad", "handler": "tests.add", "schedule": "@every 5m", **fields}
    )
    assert response.status_code == status
    assert fragment in response.get_json()["error"]["message"] + str(
        response.get_json()["error"].get("details")
    )
    assert api.get("/admin/scheduler").get_json()["total"] == 0


def test_names_are_unique(api: ApiClient) -> None:
    create(api, name="same", schedule="@every 1h")
    response = api.post(
        "/admin/scheduler",
        json={"name": "same", "handler": "tests.add", "params": {"a": 1, "b": 2}, "schedule": "@every 1h"},
    )
    assert response.status_code == 409


def test_scheduled_task_fields_and_words(api: ApiClient) -> None:
    task = create(api, name="daily-cleanup", schedule="0 3 * * *", timezone="Europe/Berlin", maxRetries=3,
                  retryDelay=300000, backoff=["1m", "5m", "15m", "1h", "6h"])  # fmt: skip
    assert task["recurring"] is True
    assert task["retryDelay"] == 300000
    assert task["backoff"] == [60000, 300000, 900000, 3600000, 21600000]
    assert task["nextRunAt"].endswith(("+01:00", "+02:00"))
    assert "03:00" in task["nextRunAt"]
    assert "Europe/Berlin" in task["scheduleDescription"]
    for key in (
        "id",
        "name",
        "description",
        "handler",
        "params",
        "schedule",
        "recurring",
        "maxRetries",
        "retryDelay",
        "status",
        "nextRun",
        "lastExecution",
        "retryCount",
        "createdAt",
        "updatedAt",
        "timezone",
        "backoff",
    ):
        assert key in task  # fmt: skip


def test_pause_resume_and_delete(api: ApiClient, engine: Engine, clock: Clock, connection: Redis) -> None:
    task = create(api, schedule="@every 1s", handler="system.echo", params={})
    paused = api.post(f"/admin/scheduler/{task['id']}/actions/pause").get_json()
    assert paused["status"] == "paused" and paused["nextRun"] is None
    clock.now += 5
    assert engine.fire_due() == 0
    assert api.get("/admin/scheduler", query_string={"status": "paused"}).get_json()["total"] == 1
    resumed = api.post(f"/admin/scheduler/{task['id']}/actions/resume").get_json()
    assert resumed["status"] == "active" and resumed["nextRun"] > time.time() * 1000
    assert api.delete(f"/admin/scheduler/{task['id']}").status_code == 200
    assert api.get(f"/admin/scheduler/{task['id']}").status_code == 404
    clock.now += 5
    assert engine.fire_due() == 0


def test_update_replans(api: ApiClient) -> None:
    task = create(api, schedule="0 0 1 1 *")
    updated = api.put(f"/admin/scheduler/{task['id']}", json={"schedule": "@every 10s", "description": "x"})
    assert updated.status_code == 200
    body = updated.get_json()
    assert body["recurring"] is True and body["description"] == "x"
    assert body["nextRun"] - time.time() * 1000 <= 10_500
    assert api.put(f"/admin/scheduler/{task['id']}", json={"schedule": "nope nope"}).status_code == 400


def test_listing_filters_and_pages(api: ApiClient) -> None:
    for i in range(5):
        create(api, name=f"report-{i}", handler="tests.add" if i % 2 else "system.echo", schedule="@every 1h")
    page = api.get("/admin/scheduler", query_string={"per_page": 2, "page": 2}).get_json()
    assert (page["total"], len(page["items"]), page["items"][0]["name"]) == (5, 2, "report-2")
    by_handler = api.get("/admin/scheduler", query_string={"handler": "system.echo"}).get_json()
    assert by_handler["total"] == 3
    by_name = api.get("/admin/scheduler", query_string={"name": "PORT-4"}).get_json()
    assert [t["name"] for t in by_name["items"]] == ["report-4"]
    assert api.get("/admin/scheduler", query_string={"status": "sleeping"}).status_code == 400
    assert api.get("/admin/scheduler", query_string={"per_page": 1000}).status_code == 400


def test_run_now_action(api: ApiClient, connection: Redis) -> None:
    task = create(api, schedule="0 0 1 1 *")
    run = api.post(f"/admin/scheduler/{task['id']}/actions/run")
    assert run.status_code == 202
    run_worker(connection)
    job = api.get(run.get_json()["run"]["url"]).get_json()
    assert job["status"] == "finished" and job["result"] == 3
    assert api.get(f"/admin/scheduler/{task['id']}").get_json()["status"] == "active"  # still recurring


def test_viewer_reads_but_cannot_change(api: ApiClient, app) -> None:  # type: ignore[no-untyped-def]
    task = create(api, schedule="@every 1h")
    secret = api.post("/api/v1/tokens", json={"name": "v", "role": "viewer"}).get_json()["token"]
    viewer = ApiClient(app.test_client(), secret)
    assert viewer.get("/admin/scheduler").status_code == 200
    assert viewer.post(f"/admin/scheduler/{task['id']}/actions/pause").status_code == 403
    assert ApiClient(app.test_client(), None).get("/admin/scheduler").status_code == 401
    assert (
        api.get(f"/admin/scheduler/{task['id']}").get_json()["status"] != "paused"
    )  # the 403 changed nothing
