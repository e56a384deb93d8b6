"""POST /api/v1/jobs/batch and /api/v1/jobs/actions/{requeue,delete} on real Redis."""

from __future__ import annotations

from redis import Redis
from rq.job import Job

from jobs.enqueue import JobRequest, enqueue
from jobs.settings import Settings
from tests.conftest import ApiClient, run_worker
from tests.web_login import make_token


def test_batch_enqueues_the_valid_items_and_reports_the_others_by_index(
    api: ApiClient, connection: Redis
) -> None:
    items = [
        {"task": "tests.add", "args": [1, 2]},
        {"task": "nope.nope"},
        {"task": "tests.add", "args": [3, 4], "queue": "nowhere"},
        {"task": "tests.add", "delay_seconds": -1},
        {"task": "tests.add", "args": [5, 6], "delay_seconds": 600},
        {"task": "tests.add", "args": [7, 8], "job_id": "batch-fixed-id"},
        "not an object",
    ]
    response = api.post("/api/v1/jobs/batch", json={"jobs": items})
    assert response.status_code == 400  # the envelope itself is checked: every item is an object
    response = api.post("/api/v1/jobs/batch", json={"jobs": items[:-1]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["enqueued"], body["failed"]) == (3, 3)
    results = body["items"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["ok"] for r in results] == [True, False, False, False, True, True]
    assert results[1]["error"]["code"] == "unknown_task"
    assert results[2]["error"]["code"] == "unknown_queue"
    assert results[3]["error"]["details"][0]["field"] == "delay_seconds"
    assert results[4]["job"]["status"] == "scheduled" and results[5]["job"]["id"] == "batch-fixed-id"
    assert connection.llen("rq:queue:default") == 2
    run_worker(connection)
    assert Job.fetch(results[0]["job"]["id"], connection=connection).return_value() == 3
    again = api.post("/api/v1/jobs/batch", json={"jobs": [items[5], items[0]]}).get_json()
    assert again["items"][0]["error"]["code"] == "job_id_taken"
    nothing = api.post("/api/v1/jobs/batch", json={"jobs": [{"task": "x.y"}]})
    assert (
        nothing.status_code == 400 and nothing.get_json()["items"][0]["error"]["code"] == "unknown_task"
    )  # it finished: the id is taken


def test_batch_refuses_depends_on_per_item_instead_of_dropping_it(api: ApiClient, connection: Redis) -> None:
    """A batch enqueues in one pipeline, which RQ's dependency handling cannot join: an item naming
    ``depends_on`` is refused by index (it used to be enqueued without its dependency)."""
    parent = api.post("/api/v1/jobs", json={"task": "tests.add", "args": [1, 1]}).get_json()
    items = [
        {"task": "tests.add", "args": [2, 2]},
        {"task": "tests.add", "args": [3, 3], "depends_on": [parent["id"]]},
    ]
    body = api.post("/api/v1/jobs/batch", json={"jobs": items}).get_json()
    assert (body["enqueued"], body["failed"]) == (1, 1)
    assert body["items"][1] == {
        "index": 1,
        "ok": False,
        "error": {
            "code": "validation_error",
            "message": "depends_on is not supported in a batch; POST /api/v1/jobs takes it",
        },
    }
    assert connection.llen("rq:queue:default") == 2  # the parent and the valid item, nothing else


def test_batch_limits(api: ApiClient, connection: Redis) -> None:
    over = api.post("/api/v1/jobs/batch", json={"jobs": [{"task": "tests.add"}] * 1001})
    assert over.status_code == 400
    assert api.post("/api/v1/jobs/batch", json={"jobs": []}).status_code == 400
    full = api.post("/api/v1/jobs/batch", json={"jobs": [{"task": "tests.add", "args": [1, 1]}] * 1000})
    assert full.get_json()["enqueued"] == 1000 and connection.llen("rq:queue:default") == 1000


def _fail(connection: Redis, settings: Settings, task: str, n: int) -> list[str]:
    ids = [
        enqueue(connection, settings, JobRequest(task, kwargs={"message": f"m{i}"})).job.id for i in range(n)
    ]
    run_worker(connection)
    return ids


def test_bulk_requeue_by_filter_with_a_dry_run_count(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    failed = _fail(connection, settings, "tests.fail", 4)
    enqueue(connection, settings, JobRequest("tests.add", args=(1, 1)))  # queued: not matched
    dry = api.post("/api/v1/jobs/actions/requeue", json={"task": "tests.fail", "dry_run": True}).get_json()
    assert (dry["matched"], dry["done"], dry["more"]) == (4, 0, False)
    assert all(Job.fetch(i, connection=connection).get_status() == "failed" for i in failed)
    some = api.post("/api/v1/jobs/actions/requeue", json={"task": "tests.fail", "limit": 3}).get_json()
    assert (some["done"], some["more"]) == (3, True)
    rest = api.post("/api/v1/jobs/actions/requeue", json={"task": "tests.fail"}).get_json()
    assert rest["done"] == 1 and set(some["ids"] + rest["ids"]) == set(failed)
    assert all(Job.fetch(i, connection=connection).get_status() == "queued" for i in failed)


def test_bulk_delete_by_ids_reports_each_refusal(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    failed = _fail(connection, settings, "tests.fail", 2)
    queued = enqueue(connection, settings, JobRequest("tests.add", args=(1, 1))).job.id
    body = {"ids": [*failed, "no-such-job"]}
    response = api.post("/api/v1/jobs/actions/delete", json=body).get_json()
    assert response["done"] == 2 and response["errors"][0]["code"] == "job_not_found"
    assert Job.fetch_many(failed, connection=connection) == [None, None]
    requeue = api.post("/api/v1/jobs/actions/requeue", json={"ids": [queued]}).get_json()
    assert requeue["done"] == 0 and requeue["errors"][0]["code"] == "not_requeueable"
    both = api.post("/api/v1/jobs/actions/delete", json={"ids": [queued], "task": "tests.add"})
    assert both.status_code == 400
    assert api.post("/api/v1/jobs/actions/explode", json={}).status_code == 404


def test_viewers_cannot_act(api: ApiClient, app, connection: Redis, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    failed = _fail(connection, settings, "tests.fail", 1)
    viewer = ApiClient(app.test_client(), make_token(app, "viewer"))
    assert viewer.post("/api/v1/jobs/actions/requeue", json={"ids": failed}).status_code == 403
    assert viewer.post("/api/v1/jobs/batch", json={"jobs": [{"task": "tests.add"}]}).status_code == 403
    assert viewer.get("/api/v1/jobs?status=failed").get_json()["items"][0]["id"] == failed[0]


def test_responses_match_the_openapi_document(api: ApiClient, connection: Redis, settings: Settings) -> None:
    from tests.integration.test_openapi import _validate

    doc = api.get("/api/v1/openapi.json").get_json()
    failed = _fail(connection, settings, "tests.fail", 1)
    _validate(doc, "/api/v1/jobs", "get", api.get("/api/v1/jobs?limit=1"))
    _validate(doc, "/api/v1/jobs", "get", api.get("/api/v1/jobs?status=nope"))
    batch = api.post("/api/v1/jobs/batch", json={"jobs": [{"task": "tests.add"}, {"task": "x.y"}]})
    _validate(doc, "/api/v1/jobs/batch", "post", batch)
    action = api.post("/api/v1/jobs/actions/requeue", json={"ids": failed, "dry_run": True})
    _validate(doc, "/api/v1/jobs/actions/{action}", "post", action)
