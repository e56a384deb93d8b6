"""The job lifecycle over REST against a real redis-server and RQ's SimpleWorker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis import Redis
from rq.registry import ScheduledJobRegistry

from jobs.settings import Settings
from scheduler.engine import Engine
from tests.conftest import ApiClient, run_worker
from tests.waiting import wait_for


def moved(engine: Engine, connection: Redis) -> bool:
    """One scheduler pass; True once a job sits on the default queue."""
    engine.tick()
    return bool(connection.llen("rq:queue:default"))


def test_echo_job_runs_to_finished(api: ApiClient, connection: Redis) -> None:
    created = api.post("/api/v1/jobs", json={"task": "system.echo", "kwargs": {"hello": "world"}})
    assert created.status_code == 201
    job = created.get_json()
    assert job["status"] == "queued"
    assert created.headers["Location"] == job["url"] == f"/api/v1/jobs/{job['id']}"
    run_worker(connection)
    done = api.get(job["url"]).get_json()
    assert done["status"] == "finished"
    assert done["result"] == {"hello": "world"}
    assert done["attempts"] == 1
    assert done["started_at"] and done["ended_at"] and done["enqueued_at"]


def test_failure_is_summarised(api: ApiClient, connection: Redis) -> None:
    job = api.post("/api/v1/jobs", json={"task": "tests.fail", "kwargs": {"message": "nope"}}).get_json()
    run_worker(connection)
    failed = api.get(job["url"]).get_json()
    assert failed["status"] == "failed"
    assert failed["error"] == "ValueError: nope"
    requeued = api.post(f"{job['url']}/requeue")
    assert requeued.status_code == 200
    assert requeued.get_json()["status"] == "queued"


def test_job_id_deduplicates_while_pending(api: ApiClient, connection: Redis) -> None:
    body = {"task": "tests.add", "args": [1, 2], "job_id": "sum-1"}
    first = api.post("/api/v1/jobs", json=body)
    second = api.post("/api/v1/jobs", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["id"] == "sum-1"
    assert connection.llen("rq:queue:default") == 1
    run_worker(connection)
    third = api.post("/api/v1/jobs", json=body)
    assert third.status_code == 409
    assert third.get_json()["error"]["code"] == "job_id_taken"


def test_idempotency_key_replays_the_first_response(api: ApiClient, connection: Redis) -> None:
    body = {"task": "tests.add", "args": [2, 3]}
    headers = {"Idempotency-Key": "abc-123"}
    first = api.post("/api/v1/jobs", json=body, headers=headers)
    second = api.post("/api/v1/jobs", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert connection.llen("rq:queue:default") == 1
    other = api.post("/api/v1/jobs", json={"task": "tests.add", "args": [9, 9]}, headers=headers)
    assert other.status_code == 422


def test_failed_request_releases_idempotency_key(api: ApiClient) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    assert api.post("/api/v1/jobs", json={"task": "nope.nope"}, headers=headers).status_code == 400
    # same key, different (corrected) body: allowed because the failure was not stored
    assert api.post("/api/v1/jobs", json={"task": "system.echo"}, headers=headers).status_code == 201


def test_delayed_job_waits_then_runs_via_scheduler(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    posted_at = datetime.now(UTC)
    job = api.post(
        "/api/v1/jobs", json={"task": "tests.add", "args": [1, 1], "delay_seconds": 1.2}
    ).get_json()
    assert job["status"] == "scheduled"
    due = datetime.fromisoformat(job["scheduled_for"])
    assert due >= posted_at + timedelta(seconds=1.2)  # never early
    engine = Engine(connection, settings)
    engine.tick()
    if datetime.now(UTC) < due:  # the pass ran before the due time (a stalled machine may be past it)
        assert connection.llen("rq:queue:default") == 0
    wait_for(lambda: moved(engine, connection), 30, "the delayed job to be moved")
    assert datetime.now(UTC) >= due
    run_worker(connection)
    assert api.get(job["url"]).get_json()["result"] == 2


def test_run_at_and_cancel(api: ApiClient, connection: Redis) -> None:
    run_at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    job = api.post("/api/v1/jobs", json={"task": "system.echo", "run_at": run_at}).get_json()
    assert job["status"] == "scheduled"
    canceled = api.delete(job["url"])
    assert canceled.status_code == 200
    assert canceled.get_json()["status"] == "canceled"
    assert ScheduledJobRegistry("default", connection=connection).count == 0
    assert api.delete(job["url"]).status_code == 409


def test_retry_policy_uses_rq_retry(
    api: ApiClient, connection: Redis, settings: Settings, tmp_counter: str
) -> None:
    job = api.post("/api/v1/jobs", json={"task": "tests.flaky", "kwargs": {"counter_file": tmp_counter,
                                                                          "failures": 1}}).get_json()  # fmt: skip
    run_worker(connection)
    mid = api.get(job["url"]).get_json()
    assert mid["status"] == "scheduled"
    assert mid["retries_left"] == 2
    assert mid["error"] == "RuntimeError: attempt 1 fails"
    engine = Engine(connection, settings)
    wait_for(lambda: moved(engine, connection), 30, "the retry to be moved")
    run_worker(connection)
    done = api.get(job["url"]).get_json()
    assert done["status"] == "finished"
    assert done["result"] == 2
    assert done["attempts"] == 2


def test_at_front_and_queue_counts(api: ApiClient, connection: Redis) -> None:
    api.post("/api/v1/jobs", json={"task": "system.echo", "kwargs": {"n": 1}})
    front = api.post(
        "/api/v1/jobs", json={"task": "system.echo", "kwargs": {"n": 2}, "at_front": True}
    ).get_json()
    assert connection.lindex("rq:queue:default", 0).decode() == front["id"]
    api.post("/api/v1/jobs", json={"task": "tests.fail"})
    api.post("/api/v1/jobs", json={"task": "system.echo", "queue": "low", "delay_seconds": 60})
    queues = {q["name"]: q for q in api.get("/api/v1/queues").get_json()["items"]}
    assert queues["default"]["queued"] == 3
    assert queues["low"]["scheduled"] == 1
    run_worker(connection)
    queues = {q["name"]: q for q in api.get("/api/v1/queues").get_json()["items"]}
    assert (queues["default"]["finished"], queues["default"]["failed"], queues["default"]["queued"]) == (
        2,
        1,
        0,
    )


def test_tasks_listing(api: ApiClient) -> None:
    tasks = {t["name"]: t for t in api.get("/api/v1/tasks").get_json()["items"]}
    assert tasks["system.echo"]["max_retries"] == 0
    assert tasks["tests.flaky"]["retry_delays"] == [1, 1, 1]
    assert "os.system" not in tasks
