"""rq-dashboard at /admin/queues: behind our login, read-only for viewers, same-origin POSTs for admins."""

from __future__ import annotations

from flask import Flask
from redis import Redis
from rq.job import Job

from jobs.connection import connect_url
from jobs.enqueue import JobRequest, enqueue
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, run_worker
from tests.web_login import SAME_ORIGIN, login, make_token
from web import create_app


def _failed_job(connection: Redis, settings: Settings) -> Job:
    job = enqueue(connection, settings, JobRequest("tests.fail")).job
    run_worker(connection)
    assert job.get_status() == "failed"
    return job


def test_needs_login(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/admin/queues/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/queues/")
    assert client.get("/admin/queues/0/data/queues.json").status_code == 302
    assert client.post("/admin/queues/job/x/requeue", headers=SAME_ORIGIN).status_code == 401


def test_viewer_reads_but_cannot_act(app: Flask, connection: Redis, settings: Settings) -> None:
    job = _failed_job(connection, settings)
    client = app.test_client()
    login(client, make_token(app, "viewer"))
    page = client.get("/admin/queues/0/view/jobs/default/failed/8/asc/1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "read-only (viewer)" in html and "#requeue-all-btn" in html  # buttons hidden by our style
    data = client.get("/admin/queues/0/data/jobs/default/failed/8/asc/1.json").get_json()
    assert [j["id"] for j in data["jobs"]] == [job.id]
    for url in (f"/admin/queues/job/{job.id}/requeue", f"/admin/queues/job/{job.id}/delete",
                "/admin/queues/queue/default/failed/empty", "/admin/queues/requeue/default"):  # fmt: skip
        assert client.post(url, headers=SAME_ORIGIN).status_code == 403, url
    assert job.get_status(refresh=True) == "failed"


def test_admin_acts_from_the_same_origin_only(app: Flask, connection: Redis, settings: Settings) -> None:
    job = _failed_job(connection, settings)
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    url = f"/admin/queues/job/{job.id}/requeue"
    assert client.post(url).status_code == 403  # no Origin, no Referer
    assert client.post(url, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post(url, headers={"Referer": "https://evil.example/x"}).status_code == 403
    assert job.get_status(refresh=True) == "failed"
    response = client.post(url, headers={"Referer": "http://localhost/admin/queues/"})
    assert response.status_code == 200 and response.get_json() == {"status": "OK"}
    assert job.get_status(refresh=True) == "queued"
    # the GET form of requeue-all changes data: refused whatever the role
    assert client.get("/admin/queues/requeue/default").status_code == 405
    page = client.get("/admin/queues/0/view/jobs/default/queued/8/asc/1").get_data(as_text=True)
    assert "read-only" not in page


def test_bad_arguments_are_4xx_not_500(app: Flask) -> None:
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    assert client.get("/admin/queues/0/view/job/missing").status_code == 404
    assert client.get("/admin/queues/0/data/job/missing.json").status_code == 404
    assert client.get("/admin/queues/3/view/workers").status_code == 404
    assert client.get("/admin/queues/0/data/jobs/default/nope/8/asc/1.json").status_code == 400
    assert client.get("/admin/queues/0/data/jobs/default/failed/0/asc/1.json").status_code == 400
    assert client.get("/admin/queues/0/data/jobs/default/failed/8/up/1.json").status_code == 400


def test_the_blueprint_mounts_on_many_apps_each_with_its_own_redis(redis_url: str) -> None:
    """rq_dashboard.blueprint is one module-level object: every app must still see its own Redis (two
    databases of the real test server; the pages need INFO, which fakeredis lacks)."""
    settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url})
    first, second = connect_url(redis_url), connect_url(redis_url.rsplit("/", 1)[0] + "/1")
    second.flushdb()
    apps = [create_app(settings, first), create_app(settings, second)]
    enqueue(first, settings, JobRequest("tests.add", args=(1, 2)))
    counts = []
    for app in apps:
        client = app.test_client()
        login(client, ADMIN_TOKEN)
        queues = client.get("/admin/queues/0/data/queues.json").get_json()["queues"]
        counts.append({q["name"]: q["count"] for q in queues})
    assert counts == [{"default": 1}, {}]
    second.flushdb()


def test_scripts_use_a_bearer_token_with_the_same_roles(
    app: Flask, connection: Redis, settings: Settings
) -> None:
    job = _failed_job(connection, settings)
    client = app.test_client()
    viewer = {"Authorization": f"Bearer {make_token(app, 'viewer')}"}
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    data = client.get("/admin/queues/0/data/jobs/default/failed/8/asc/1.json", headers=viewer).get_json()
    assert [j["id"] for j in data["jobs"]] == [job.id]
    url = f"/admin/queues/job/{job.id}/requeue"
    assert client.post(url, headers=viewer).status_code == 403
    assert client.post(url, headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    assert job.get_status(refresh=True) == "failed"
    response = client.post(url, headers=admin)  # no Origin: a script, not a browser page
    assert response.status_code == 200 and response.get_json() == {"status": "OK"}
    assert job.get_status(refresh=True) == "queued"
