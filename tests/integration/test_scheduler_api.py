"""/admin/scheduler over REST, fired by the real engine, run by a real (burst) worker, on real Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from redis import Redis

from jobs.settings import Settings, load_settings
from scheduler import runner
from scheduler.engine import Engine
from tests.clock import Clock
from tests.conftest import TEST_ENV, ApiClient, run_worker
from tests.waiting import wait_for


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def run_clock(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scheduled runs (scheduler.runner, in the test's own worker) read ``clock`` too."""
    monkeypatch.setattr(runner, "now", lambda: datetime.fromtimestamp(clock(), UTC))


@pytest.fixture
def engine(connection: Redis, settings: Settings, clock: Clock) -> Iterator[Engine]:
    yield Engine(connection, settings, name="test-engine", clock=clock)


def create(api: ApiClient, **fields: object) -> dict:
    body = {"name": "t1", "handler": "tests.add", "params": {"a": 1, "b": 2}, "schedule": "now", **fields}
    response = api.post("/admin/scheduler", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


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


def test_cron_every_second_never_early(
    api: ApiClient, connection: Redis, engine: Engine, clock: Clock
) -> None:
    task = create(
        api, name="tick", schedule="* * * * * *", handler="system.echo", params={}, allowOverlap=True
    )
    first_due = task["nextRun"] / 1000
    clock.now = first_due - 0.5
    fired_at = []
    while clock.now < first_due + 2.5:
        if engine.fire_due():
            fired_at.append(clock.now)
        clock.now += 0.01
    assert len(fired_at) == 3
    run_worker(connection)
    executions = api.get(f"/admin/scheduler/{task['id']}/executions").get_json()["items"]
    occurrences = sorted(e["occurrence"] for e in executions)
    assert len(set(occurrences)) == 3 and all(o % 1000 == 0 for o in occurrences)
    for at, occurrence in zip(fired_at, occurrences, strict=True):
        assert at * 1000 >= occurrence  # never early
        assert at * 1000 - occurrence < 20  # late only by the loop step


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


def test_retries_then_dead_letter_then_replay(
    api: ApiClient, connection: Redis, engine: Engine, settings: Settings, clock: Clock, run_clock: None
) -> None:
    task = create(
        api, name="flaky", handler="tests.fail", params={"message": "down"}, maxRetries=2, retryDelay=1000
    )
    engine.clock.catch_up()  # type: ignore[attr-defined]
    engine.fire_due()
    run_worker(connection)
    first = api.get(f"/admin/scheduler/{task['id']}").get_json()
    assert (first["status"], first["retryCount"]) == ("retry-scheduled", 1)
    assert first["lastExecution"]["error"] == "ValueError: down"
    mover = Engine(connection, settings, name="mover", clock=clock)

    def retry_moved() -> bool:
        mover.tick()
        return bool(connection.llen("rq:queue:default"))

    for expected_count in (2, 2):  # retryCount counts retries: never above maxRetries
        clock.catch_up()
        clock.advance(2)  # past RQ's retry time (real now + 1 s) and the runner's not-before
        wait_for(retry_moved, 30, "the retry to be moved to its queue")
        run_worker(connection)
        assert api.get(f"/admin/scheduler/{task['id']}").get_json()["retryCount"] == expected_count
    final = api.get(f"/admin/scheduler/{task['id']}").get_json()
    assert final["status"] == "failed"
    executions = api.get(f"/admin/scheduler/{task['id']}/executions").get_json()["items"]
    assert [e["status"] for e in executions] == ["failed", "retry-scheduled", "retry-scheduled"]
    assert [e["attempt"] for e in executions] == [3, 2, 1]
    failed_only = api.get(
        f"/admin/scheduler/{task['id']}/executions", query_string={"status": "failed"}
    ).get_json()
    assert failed_only["total"] == 1
    dead = api.get("/admin/scheduler/dead-letters").get_json()
    assert dead["total"] == 1 and dead["items"][0]["taskId"] == task["id"]
    assert dead["items"][0]["error"] == "ValueError: down"
    reset = api.post(f"/admin/scheduler/{task['id']}/actions/reset-retries").get_json()
    assert (reset["retryCount"], reset["status"]) == (0, "failed")
    replayed = api.post(f"/admin/scheduler/dead-letters/{dead['items'][0]['jobId']}/replay")
    assert replayed.status_code == 200 and replayed.get_json()["status"] == "queued"
    assert api.get("/admin/scheduler/dead-letters").get_json()["total"] == 0


def test_run_now_action(api: ApiClient, connection: Redis) -> None:
    task = create(api, schedule="0 0 1 1 *")
    run = api.post(f"/admin/scheduler/{task['id']}/actions/run")
    assert run.status_code == 202
    run_worker(connection)
    job = api.get(run.get_json()["run"]["url"]).get_json()
    assert job["status"] == "finished" and job["result"] == 3
    assert api.get(f"/admin/scheduler/{task['id']}").get_json()["status"] == "active"  # still recurring


def test_overlap_is_skipped_and_recorded(
    api: ApiClient, engine: Engine, clock: Clock, connection: Redis
) -> None:
    task = create(api, name="slow", schedule="@every 1s", handler="system.echo", params={})
    clock.catch_up()
    clock.now += 1.001
    assert engine.fire_due() == 1  # enqueued, no worker: still pending
    clock.now += 1
    assert engine.fire_due() == 0
    executions = api.get(
        f"/admin/scheduler/{task['id']}/executions", query_string={"status": "skipped"}
    ).get_json()
    assert executions["total"] == 1 and "still running" in executions["items"][0]["error"]
    api.put(f"/admin/scheduler/{task['id']}", json={"allowOverlap": True})
    clock.now += 1
    assert engine.fire_due() == 1


def test_never_twice_even_with_two_leaders(
    api: ApiClient, connection: Redis, settings: Settings, clock: Clock
) -> None:
    task = create(api, name="once")
    clock.catch_up()
    a = Engine(connection, settings, name="a", clock=clock)
    b = Engine(connection, settings, name="b", clock=clock)
    ((task_id, score),) = a.tasks.due(clock.now)
    # both believe they lead and race on the same occurrence
    assert a.fire(task_id, score) + b.fire(task_id, score) == 1
    assert connection.llen("rq:queue:default") == 1
    assert task_id == task["id"]


def test_disabled_scheduling_fires_nothing(
    api: ApiClient, connection: Redis, redis_url: str, clock: Clock
) -> None:
    settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, "ENABLE_TASK_SCHEDULING": "false"})
    create(api)
    clock.catch_up()
    engine = Engine(connection, settings, clock=clock)
    engine.tick()
    assert connection.llen("rq:queue:default") == 0
    from tests.conftest import ADMIN_TOKEN
    from web import create_app

    client = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
    report = client.get("/admin/scheduler/health").get_json()
    assert report["schedulingEnabled"] is False
    assert any("ENABLE_TASK_SCHEDULING is false" in p for p in report["problems"])


def test_missed_schedule_is_reported(
    api: ApiClient, connection: Redis, redis_url: str, clock: Clock, run_clock: None
) -> None:
    settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, "MISSED_SCHEDULE_GRACE": "1"})
    from tests.conftest import ADMIN_TOKEN
    from web import create_app

    client = ApiClient(create_app(settings, connection, clock=clock).test_client(), ADMIN_TOKEN)
    task = create(client, name="heartbeat", schedule="@every 1s", handler="system.echo", params={})
    assert client.get("/admin/scheduler/health").get_json()["missed"] == []
    clock.advance(3)  # one period and the grace, and a second more
    wait_for(
        lambda: client.get("/admin/scheduler/health").get_json()["missed"], 30, "the task to count as missed"
    )
    report = client.get("/admin/scheduler/health").get_json()
    assert [m["id"] for m in report["missed"]] == [task["id"]]
    assert any("heartbeat missed its schedule" in p for p in client.get("/healthz").get_json()["problems"])
    # a success moves the deadline on
    engine = Engine(connection, settings, clock=clock)
    engine.fire_due()
    run_worker(connection)
    assert client.get("/admin/scheduler/health").get_json()["missed"] == []


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


def test_status_is_running_while_the_run_executes(api: ApiClient, connection: Redis, engine: Engine) -> None:
    import threading

    task = create(api, name="sleepy", handler="system.sleep", params={"seconds": 1})
    engine.clock.catch_up()  # type: ignore[attr-defined]
    engine.fire_due()
    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:  # the worker needs the main thread (signals), so the watcher gets its own
        while not done.is_set():
            seen.add(api.get(f"/admin/scheduler/{task['id']}").get_json()["status"])
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    run_worker(connection)
    done.set()
    watcher.join()
    assert "running" in seen
    assert api.get(f"/admin/scheduler/{task['id']}").get_json()["status"] == "completed"


def test_a_run_lost_with_its_worker_does_not_block_the_next(
    api: ApiClient, connection: Redis, engine: Engine, clock: Clock
) -> None:
    from scheduler.store import TaskStore

    task = create(api, name="orphan", schedule="@every 1s", handler="system.echo", params={})
    TaskStore(connection).set_fields(task["id"], status="running", currentJob="sched-gone-1")
    clock.catch_up()
    clock.now += 1.001
    assert engine.fire_due() == 1  # the vanished job does not count as still running
