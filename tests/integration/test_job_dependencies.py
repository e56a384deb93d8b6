"""Task dependencies: jobs that wait for other jobs (RQ's depends_on), and a scheduled task that runs
another after it succeeds."""

from __future__ import annotations

from redis import Redis
from rq.job import Job

from jobs.handler_context import use_settings
from jobs.settings import Settings
from scheduler.engine import Engine
from tests.conftest import ApiClient, run_worker


def post(api: ApiClient, **body: object) -> dict:
    response = api.post("/api/v1/jobs", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def status(api: ApiClient, job: dict) -> str:
    return str(api.get(job["url"]).get_json()["status"])


def test_a_job_waits_for_the_jobs_it_depends_on(api: ApiClient, connection: Redis) -> None:
    """The task-scheduling design note's planned "Task Dependencies: Sequential task execution":
    ``depends_on`` defers a job until its dependencies have finished."""
    first = post(api, task="tests.add", args=[1, 2])
    second = post(api, task="tests.add", args=[3, 4])
    after = post(api, task="tests.add", args=[5, 6], depends_on=[first["id"], second["id"]])
    assert status(api, after) == "deferred"
    run_worker(connection)
    jobs = {j["id"]: Job.fetch(j["id"], connection=connection) for j in (first, second, after)}
    assert {j.get_status().value for j in jobs.values()} == {"finished"}
    last = jobs[after["id"]]
    assert last.started_at is not None
    for dependency in (first, second):
        ended = jobs[dependency["id"]].ended_at
        assert ended is not None and last.started_at >= ended


def test_a_failed_dependency_holds_its_dependents_unless_they_allow_failure(
    api: ApiClient, connection: Redis
) -> None:
    """RQ's semantics: a failed dependency leaves the dependent deferred; ``allow_failure`` lets it run."""
    failing = post(api, task="tests.fail")
    held = post(api, task="tests.add", args=[1, 1], depends_on=[failing["id"]])
    tolerant = post(api, task="tests.add", args=[2, 2], depends_on=[failing["id"]], allow_failure=True)
    run_worker(connection)
    assert status(api, failing) == "failed"
    assert status(api, held) == "deferred"
    assert status(api, tolerant) == "finished"


def test_dependencies_that_cannot_be_honoured_are_400s(api: ApiClient, connection: Redis) -> None:
    """A dependency must name a job; a delayed or named job cannot also wait (RQ would ignore it)."""
    existing = post(api, task="tests.add", args=[1, 1])
    for body, fragment in (
        ({"depends_on": ["no-such-job"]}, "no job 'no-such-job'"),
        ({"depends_on": [existing["id"]], "delay_seconds": 5}, "delay_seconds"),
        ({"depends_on": [existing["id"]], "job_id": "mine"}, "job_id"),
        ({"depends_on": []}, "depends_on"),
    ):
        response = api.post("/api/v1/jobs", json={"task": "tests.add", "args": [1, 1], **body})
        assert response.status_code == 400, body
        assert fragment in str(response.get_json()["error"]), (body, response.get_json())
    assert connection.llen("rq:queue:default") == 1  # only the first job


def test_a_scheduled_task_runs_another_after_it_succeeds(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    """The same note, for scheduled tasks: ``onSuccess`` names the task to run after each successful run
    (and only then)."""

    def task(**fields: object) -> dict:
        response = api.post("/admin/scheduler", json=fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    report = task(name="monthly-report", handler="tests.record_run", schedule="0 0 1 1 *")
    task(
        name="sync", handler="tests.add", params={"a": 1, "b": 2}, schedule="now", onSuccess="monthly-report"
    )
    task(name="broken", handler="tests.fail", params={}, schedule="now", onSuccess=report["id"])
    with use_settings(settings):
        assert Engine(connection, settings).fire_due() == 2
        run_worker(connection)
    runs = api.get(f"/admin/scheduler/{report['id']}/executions").get_json()["items"]
    assert [r["status"] for r in runs] == ["completed"]  # once: after sync, not after broken
    assert connection.llen("test:runs") == 1
    refused = api.post(
        "/admin/scheduler",
        json={"name": "x", "handler": "system.echo", "schedule": "now", "onSuccess": "nope"},
    )
    assert refused.status_code == 400 and "onSuccess" in refused.get_json()["error"]["message"]
