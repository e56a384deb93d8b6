"""Our pages: what they show, the fragment refresh, server-side pagination, and their buttons."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from jobs.enqueue import JobRequest, enqueue
from jobs.settings import Settings
from tests.conftest import ADMIN_TOKEN, run_worker
from tests.web_login import SAME_ORIGIN, login, make_token


def admin(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    return client, login(client, ADMIN_TOKEN)


def test_overview_and_health_show_live_figures(app: Flask, connection: Redis, settings: Settings) -> None:
    client, _ = admin(app)
    enqueue(connection, settings, JobRequest("tests.add", args=(1, 2)))
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'data-refresh="/dashboard/"' in page and "refresh.js" in page
    assert re.search(r'data-figure="queued">1<', page)
    run_worker(connection)
    fragment = client.get("/dashboard/", headers={"X-Fragment": "1"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and re.search(r'data-figure="finished">1<', text)
    health = client.get("/dashboard/health").get_data(as_text=True)
    assert "Schedulers" in health and "Circuit breakers" in health and "Missed schedules" in health
    assert "no worker is running" in health


def test_dead_letters_replay(app: Flask, connection: Redis, settings: Settings) -> None:
    client, csrf = admin(app)
    jobs = [
        enqueue(connection, settings, JobRequest("tests.fail", kwargs={"message": f"m{i}"})).job
        for i in range(3)
    ]
    run_worker(connection)
    first = client.get("/dashboard/dead-letters?per_page=2").get_data(as_text=True)
    second = client.get("/dashboard/dead-letters?per_page=2&page=2").get_data(as_text=True)
    shown = [j.id for j in jobs if f'data-job="{j.id}"' in first]
    assert len(shown) == 2 and "3 in all" in first
    assert [j.id for j in jobs if f'data-job="{j.id}"' in second] == [j.id for j in jobs if j.id not in shown]
    assert "ValueError: m" in first
    assert client.get("/dashboard/dead-letters?page=0").status_code == 400
    response = client.post(
        f"/dashboard/dead-letters/{jobs[0].id}/replay", data={"csrf_token": csrf}, headers=SAME_ORIGIN
    )
    assert response.status_code == 302
    assert jobs[0].get_status(refresh=True) == "queued"
    viewer = app.test_client()
    viewer_csrf = login(viewer, make_token(app, "viewer"))
    assert "Replay</button>" not in viewer.get("/dashboard/dead-letters").get_data(as_text=True)
    refused = viewer.post(
        f"/dashboard/dead-letters/{jobs[1].id}/replay", data={"csrf_token": viewer_csrf}, headers=SAME_ORIGIN
    )
    assert refused.status_code == 403


def test_schedule_form_uses_the_api_validation(app: Flask) -> None:
    client, csrf = admin(app)
    bad = client.post(
        "/dashboard/schedules/new",
        data={"csrf_token": csrf, "name": "nightly", "handler": "system.echo", "schedule": "every blue moon"},
        headers=SAME_ORIGIN,
    )
    assert bad.status_code == 400
    assert "schedule:" in bad.get_data(as_text=True)
    unknown = client.post(
        "/dashboard/schedules/new",
        data={"csrf_token": csrf, "name": "x", "handler": "nope.nope", "schedule": "@every 5m"},
        headers=SAME_ORIGIN,
    )
    assert "handler: no task named &#39;nope.nope&#39;" in unknown.get_data(as_text=True)
    params = client.post(
        "/dashboard/schedules/new",
        data={
            "csrf_token": csrf,
            "name": "x",
            "handler": "system.echo",
            "schedule": "@every 5m",
            "params": "{",
        },
        headers=SAME_ORIGIN,
    )
    assert "params: not valid JSON" in params.get_data(as_text=True)


def test_create_list_filter_and_act_on_a_scheduled_task(app: Flask, connection: Redis) -> None:
    client, csrf = admin(app)
    created = client.post(
        "/dashboard/schedules/new",
        data={"csrf_token": csrf, "name": "report", "handler": "system.echo", "schedule": "*/5 * * * *",
              "timezone": "Europe/Berlin", "params": '{"a": 1}', "maxRetries": "2"},
        headers=SAME_ORIGIN,
    )  # fmt: skip
    assert created.status_code == 302, created.get_data(as_text=True)
    detail_url = created.headers["Location"]
    task_id = detail_url.rsplit("/", 1)[1]
    listing = client.get("/dashboard/schedules?q=rep").get_data(as_text=True)
    assert 'data-task="report"' in listing and "every fifth minute" in listing and "+01:00" in listing
    assert 'data-task="report"' not in client.get("/dashboard/schedules?q=zzz").get_data(as_text=True)
    assert 'data-task="report"' not in client.get("/dashboard/schedules?status=paused").get_data(as_text=True)
    pause = client.post(
        f"/dashboard/schedules/{task_id}/pause", data={"csrf_token": csrf}, headers=SAME_ORIGIN
    )
    assert pause.status_code == 302
    assert 'data-task="report"' in client.get("/dashboard/schedules?status=paused").get_data(as_text=True)
    client.post(f"/dashboard/schedules/{task_id}/resume", data={"csrf_token": csrf}, headers=SAME_ORIGIN)
    run = client.post(f"/dashboard/schedules/{task_id}/run", data={"csrf_token": csrf}, headers=SAME_ORIGIN)
    assert run.status_code == 302
    run_worker(connection)
    detail = client.get(detail_url).get_data(as_text=True)
    assert 'data-execution-status="completed"' in detail
    edited = client.post(
        f"/dashboard/schedules/{task_id}/edit",
        data={"csrf_token": csrf, "name": "report", "handler": "system.echo", "schedule": "@every 30s"},
        headers=SAME_ORIGIN,
    )
    assert edited.status_code == 302
    assert "every 30 seconds" in client.get(detail_url).get_data(as_text=True)
    assert (
        client.post(
            f"/dashboard/schedules/{task_id}/explode", data={"csrf_token": csrf}, headers=SAME_ORIGIN
        ).status_code
        == 404
    )
    assert client.get("/dashboard/schedules?status=bogus").status_code == 400


def test_webhooks_and_integrations_pages_render(app: Flask) -> None:
    client, _ = admin(app)
    assert "no endpoints" in client.get("/dashboard/webhooks").get_data(as_text=True)
    page = client.get("/dashboard/integrations")
    assert page.status_code == 200
