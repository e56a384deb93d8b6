"""Scheduled tasks fired by the real engine (on the test's clock) and run by a real (burst) worker, on
real Redis: never early, retried to the dead letters, overlaps skipped, fired once with two leaders,
nothing fired when scheduling is off, missed schedules reported, a run's status while it runs."""

from __future__ import annotations

import time

from redis import Redis

from jobs.settings import Settings, load_settings
from scheduler.engine import Engine
from tests.clock import Clock
from tests.conftest import TEST_ENV, ApiClient, run_worker
from tests.conftest import create_task as create
from tests.waiting import wait_for


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
