"""Dead letters grouped by task and scheduled task, bulk replay and discard, over REST and on the page."""

from __future__ import annotations

import re

from flask import Flask
from redis import Redis
from rq.job import Job

from jobs.enqueue import JobRequest, enqueue
from jobs.settings import Settings
from tests.conftest import ADMIN_TOKEN, ApiClient, run_worker
from tests.web_login import SAME_ORIGIN, login, make_token


def _fail(connection: Redis, settings: Settings, task: str, n: int, **meta: str) -> list[str]:
    ids = [
        enqueue(connection, settings, JobRequest(task, kwargs={"message": f"m{i}"}, meta=meta)).job.id
        for i in range(n)
    ]
    run_worker(connection)
    return ids


def test_groups_and_bulk_replay_of_one_task(api: ApiClient, connection: Redis, settings: Settings) -> None:
    flood = _fail(connection, settings, "tests.fail", 4, scheduled_task="task-0123456789ab")
    other = _fail(connection, settings, "tests.fail", 1)
    _fail(connection, settings, "tests.fail", 2, delivery_id="whd_0123456789abcdef")  # webhooks: not jobs
    body = api.get("/api/v1/dead-letters").get_json()
    assert body["failed_jobs"] == 7
    assert [(g["task"], g["scheduled_task"], g["count"]) for g in body["groups"]] == [
        ("tests.fail", "task-0123456789ab", 4),
        ("tests.fail", None, 1),
    ]
    only = api.get("/api/v1/dead-letters?scheduled_task=task-0123456789ab").get_json()["groups"]
    assert len(only) == 1 and only[0]["latest_id"] in flood
    dry = api.post(
        "/api/v1/dead-letters/replay", json={"scheduled_task": "task-0123456789ab", "dry_run": True}
    )
    assert dry.get_json()["matched"] == 4 and dry.get_json()["done"] == 0
    done = api.post("/api/v1/dead-letters/replay", json={"scheduled_task": "task-0123456789ab"}).get_json()
    assert done["done"] == 4 and set(done["ids"]) == set(flood)
    assert {j.get_status() for j in Job.fetch_many(flood, connection=connection)} == {"queued"}
    gone = api.post("/api/v1/dead-letters/discard", json={"ids": other}).get_json()
    assert gone["done"] == 1 and Job.fetch_many(other, connection=connection) == [None]
    assert api.get("/api/v1/dead-letters?colour=red").status_code == 400
    assert api.post("/api/v1/dead-letters/explode", json={}).status_code == 404
    webhook = api.post(
        "/api/v1/dead-letters/replay", json={"kind": "webhook", "ids": ["whd_nope"]}
    ).get_json()
    assert webhook["done"] == 0 and webhook["errors"][0]["code"] == "not_a_dead_letter"


def test_page_groups_select_and_replay(app: Flask, connection: Redis, settings: Settings) -> None:
    ids = _fail(connection, settings, "tests.fail", 3)
    client = app.test_client()
    csrf = login(client, ADMIN_TOKEN)
    page = client.get("/dashboard/dead-letters").get_data(as_text=True)
    assert 'data-group-task="tests.fail"' in page and 'data-select-all="group"' in page
    group_value = " ".join(sorted(ids))
    assert all(i in page for i in ids)
    response = client.post(
        "/dashboard/dead-letters/actions/replay",
        data={"csrf_token": csrf, "kind": "job", "group": group_value, "back": "/dashboard/dead-letters"},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 302
    after = client.get("/dashboard/dead-letters").get_data(as_text=True)
    assert "replayed 3 jobs" in after
    assert {j.get_status() for j in Job.fetch_many(ids, connection=connection)} == {"queued"}
    assert all(re.search(rf'data-replayed="{i}">.*?data-field="now">queued<', after, re.S) for i in ids)
    run_worker(connection)  # they fail again: the row says so
    again = client.get("/dashboard/dead-letters").get_data(as_text=True)
    assert all(re.search(rf'data-replayed="{i}">.*?data-field="now">failed<', again, re.S) for i in ids)
    viewer = app.test_client()
    viewer_csrf = login(viewer, make_token(app, "viewer"))
    assert "Replay ticked" not in viewer.get("/dashboard/dead-letters").get_data(as_text=True)
    refused = viewer.post(
        "/dashboard/dead-letters/actions/discard",
        data={"csrf_token": viewer_csrf, "group": group_value},
        headers=SAME_ORIGIN,
    )
    assert refused.status_code == 403
    assert client.get("/dashboard/dead-letters?kind=nope").status_code == 400
