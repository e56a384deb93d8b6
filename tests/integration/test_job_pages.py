"""The jobs pages: list with filters in the URL, a job's page, its buttons, bulk actions, and errors as
HTML pages for browser navigations (JSON for everyone else)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq.job import Job

from jobs.enqueue import JobRequest, enqueue
from jobs.settings import Settings
from tests.conftest import ADMIN_TOKEN, run_worker
from tests.web_login import SAME_ORIGIN, login, make_token

NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
HOSTILE = "<script>alert(1)</script>"


def _client(app: Flask, role: str = "admin") -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = ADMIN_TOKEN if role == "admin" else make_token(app, role)
    return client, login(client, token)


def _failed(connection: Redis, settings: Settings, message: str = HOSTILE) -> str:
    job = enqueue(connection, settings, JobRequest("tests.fail", kwargs={"message": message})).job
    run_worker(connection)
    return job.id


def test_find_why_a_job_failed_and_retry_it(app: Flask, connection: Redis, settings: Settings) -> None:
    client, csrf = _client(app)
    job_id = _failed(connection, settings)
    enqueue(connection, settings, JobRequest("tests.add", args=(1, 2)))
    listing = client.get("/dashboard/jobs?status=failed").get_data(as_text=True)
    assert f'href="/dashboard/jobs/{job_id}"' in listing and listing.count("data-job=") == 1
    assert HOSTILE not in listing and "&lt;script&gt;" in listing  # the error line, escaped
    page = client.get(f"/dashboard/jobs/{job_id}").get_data(as_text=True)
    assert HOSTILE not in page
    assert re.search(r'data-field="kwargs">\{\s+&#34;message&#34;: &#34;&lt;script&gt;', page), page
    assert "Traceback (most recent call last)" in page and "tests/fixtures.py" in page
    assert 'data-attempt="1"' in page and "failed" in page
    assert "Retry</button>" in page and "data-confirm" in page  # delete asks first
    response = client.post(f"/dashboard/jobs/{job_id}/retry", data={"csrf_token": csrf}, headers=SAME_ORIGIN)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/dashboard/jobs/{job_id}")
    assert Job.fetch(job_id, connection=connection).get_status() == "queued"
    assert f"job {job_id} is back on queue default" in client.get(f"/dashboard/jobs/{job_id}").get_data(
        as_text=True
    )


def test_viewer_sees_everything_and_can_change_nothing(
    app: Flask, connection: Redis, settings: Settings
) -> None:
    job_id = _failed(connection, settings, "boom")
    viewer, csrf = _client(app, "viewer")
    page = viewer.get(f"/dashboard/jobs/{job_id}").get_data(as_text=True)
    assert "ValueError: boom" in page and "<button" not in page.split("</header>", 1)[1]
    listing = viewer.get("/dashboard/jobs").get_data(as_text=True)
    assert job_id in listing and "Requeue" not in listing
    for path, data in [
        (f"/dashboard/jobs/{job_id}/retry", {}),
        (f"/dashboard/jobs/{job_id}/delete", {}),
        ("/dashboard/jobs/actions/requeue", {"all": "1"}),
    ]:
        refused = viewer.post(path, data={"csrf_token": csrf, **data}, headers={**SAME_ORIGIN, **NAVIGATE})
        assert refused.status_code == 403 and refused.mimetype == "text/html", path
        assert "viewer" in refused.get_data(as_text=True) and 'href="/dashboard/"' in refused.get_data(
            as_text=True
        )
    assert Job.fetch(job_id, connection=connection).get_status() == "failed"


def test_filters_live_in_the_url_and_bad_ones_are_error_pages(
    app: Flask, connection: Redis, settings: Settings
) -> None:
    client, _ = _client(app)
    failed = _failed(connection, settings, "boom")
    queued = enqueue(connection, settings, JobRequest("tests.add", args=(1, 2))).job.id
    page = client.get("/dashboard/jobs?status=queued&task=tests.add").get_data(as_text=True)
    assert queued in page and failed not in page
    assert 'option value="queued" selected' in page and 'value="tests.add"' in page
    by_time = client.get("/dashboard/jobs?ended_after=2000-01-01T00:00").get_data(as_text=True)
    assert failed in by_time and queued not in by_time  # a datetime-local value is read as UTC
    bad = client.get("/dashboard/jobs?status=lost", headers=NAVIGATE)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and bad.mimetype == "text/html" and "<code>status</code>" in text
    assert 'href="/dashboard/jobs"' in text  # a way back
    assert client.get("/dashboard/jobs?colour=red", headers=NAVIGATE).status_code == 400
    missing = client.get("/dashboard/jobs/no-such-job", headers=NAVIGATE)
    assert (
        missing.status_code == 404
        and missing.mimetype == "text/html"
        and "Overview" in missing.get_data(as_text=True)
    )
    assert client.get("/dashboard/no-such-page", headers=NAVIGATE).mimetype == "text/html"
    # scripts and the API keep their JSON
    assert client.get("/dashboard/jobs?status=lost").mimetype == "application/json"
    api = client.get("/api/v1/jobs?status=lost", headers=NAVIGATE)
    assert api.mimetype == "application/json"


def test_bulk_requeue_and_delete_from_the_list(app: Flask, connection: Redis, settings: Settings) -> None:
    client, csrf = _client(app)
    ids = [_failed(connection, settings, f"m{i}") for i in range(3)]
    ticked = client.post(
        "/dashboard/jobs/actions/delete",
        data={"csrf_token": csrf, "ids": ids[:1], "back": "/dashboard/jobs?status=failed"},
        headers=SAME_ORIGIN,
    )
    assert ticked.status_code == 302 and ticked.headers["Location"] == "/dashboard/jobs?status=failed"
    assert Job.fetch_many(ids[:1], connection=connection) == [None]
    everything = client.post(
        "/dashboard/jobs/actions/requeue",
        data={"csrf_token": csrf, "all": "1", "task": "tests.fail"},
        headers=SAME_ORIGIN,
    )
    assert everything.status_code == 302
    assert [j.get_status() for j in Job.fetch_many(ids[1:], connection=connection)] == ["queued", "queued"]
    assert "requeued 2 jobs" in client.get("/dashboard/jobs").get_data(as_text=True)


def test_every_job_id_on_our_pages_links_to_the_job_page(
    app: Flask, connection: Redis, settings: Settings
) -> None:
    client, _ = _client(app)
    job_id = _failed(connection, settings, "boom")
    dead = client.get("/dashboard/dead-letters").get_data(as_text=True)
    assert f'href="/dashboard/jobs/{job_id}"' in dead and "/admin/queues/0/view/job/" not in dead
