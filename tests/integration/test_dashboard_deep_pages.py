"""rq-dashboard's pages stay reachable with a million queued jobs: the page number may go past 100,000
(1,000,000 jobs are 125,000 pages of 8); absurd numbers still get a 400, not a 500."""

from __future__ import annotations

from flask import Flask
from redis import Redis
from rq import Queue

from tests.conftest import ADMIN_TOKEN
from tests.web_login import login


def test_deep_pages_answer(app: Flask, connection: Redis) -> None:
    queue = Queue("default", connection=connection)
    ids = [queue.enqueue("jobs.builtin.system.noop").id for _ in range(3)]
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    base = "/admin/queues/0/data/jobs/default/queued"
    first = client.get(f"{base}/2/asc/1.json")
    assert first.status_code == 200
    assert [job["id"] for job in first.get_json()["jobs"]] == ids[:2]
    deep = client.get(f"{base}/8/asc/125000.json")
    assert deep.status_code == 200, deep.get_data(as_text=True)
    assert deep.get_json()["jobs"] == []
    too_far = client.get(f"{base}/8/asc/10000001.json")
    assert too_far.status_code == 400
    assert "page" in too_far.get_json()["error"]["message"]
