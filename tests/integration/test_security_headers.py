"""Response headers and rq-dashboard's mount, seen through the Flask client: CSP with nonces on every
HTML page, framing and sniffing refused, rq-dashboard's templates escaping, its page sizes capped, its
actions POST-only, no credentials in the Redis URL it shows, and no Location built from ``Host``."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from redis import Redis

from jobs.enqueue import JobRequest, enqueue
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, run_worker
from tests.web_login import SAME_ORIGIN, login
from web import create_app
from web.queue_dashboard.templates import escaping_source

HTML_PAGES = (
    "/dashboard/",
    "/dashboard/dead-letters",
    "/dashboard/health",
    "/admin/queues/",
    "/admin/queues/0/view/workers",
    "/admin/queues/0/view/jobs",
    "/admin/queues/0/view/jobs/default/failed/8/asc/1",
)
TEMPLATES = ("job.html", "jobs.html", "workers.html", "queues.html", "base.html")


def _nonce(policy: str) -> str:
    match = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]+)'", policy)
    assert match, policy
    return match.group(1)


def _assert_protected(response, path: str) -> None:  # type: ignore[no-untyped-def]
    assert response.headers["X-Frame-Options"] == "DENY", path
    assert response.headers["X-Content-Type-Options"] == "nosniff", path
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src-attr 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src ")[1].split(";")[0]
    nonce = _nonce(policy)
    html = response.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or f'nonce="{nonce}"' in tag, (path, tag)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), path  # no inline event handlers


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_has_a_nonce_csp_and_refuses_framing(app: Flask, path: str) -> None:
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    response = client.get(path)
    assert response.status_code == 200, path
    _assert_protected(response, path)


def test_login_page_and_json_get_the_headers_too(app: Flask) -> None:
    client = app.test_client()
    _assert_protected(client.get("/login"), "/login")
    api = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["X-Frame-Options"] == "DENY"


def test_each_response_gets_a_fresh_nonce(app: Flask) -> None:
    client = app.test_client()
    first = _nonce(client.get("/login").headers["Content-Security-Policy"])
    second = _nonce(client.get("/login").headers["Content-Security-Policy"])
    assert first != second


def test_only_rq_dashboard_pages_allow_eval(app: Flask) -> None:
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    assert "'unsafe-eval'" in client.get("/admin/queues/").headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in client.get("/dashboard/").headers["Content-Security-Policy"]


def test_rq_dashboard_templates_are_rewritten_to_escape(app: Flask) -> None:
    """Fails loudly when rq-dashboard's templates change shape: the rewrite must still find raw
    outputs in job.html and leave none anywhere."""
    loader = app.jinja_env.loader
    assert loader is not None
    original_job = app.jinja_env.loader.inner.get_source(app.jinja_env, "rq_dashboard/job.html")[0]  # type: ignore[union-attr]
    assert "<%= d.exc_info %>" in original_job  # what the rewrite exists for
    for name in TEMPLATES:
        source = loader.get_source(app.jinja_env, f"rq_dashboard/{name}")[0]
        assert "<%=" not in source, name
        assert ".text(" not in source or "<%- $(" not in source, name  # nothing escaped twice
        for tag in re.findall(r"<script\b[^>]*>", source):
            assert "csp_nonce()" in tag, (name, tag)
    assert escaping_source("<%= $('<div/>').text(d.x).html() %>") == "<%- d.x %>"


def test_rq_dashboard_per_page_is_capped_at_100(app: Flask) -> None:
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    assert client.get("/admin/queues/0/data/jobs/default/queued/100/asc/1.json").status_code == 200
    for per_page in ("101", "100000"):
        response = client.get(f"/admin/queues/0/data/jobs/default/queued/{per_page}/asc/1.json")
        assert response.status_code == 400, per_page
        assert client.get(f"/admin/queues/0/view/jobs/default/queued/{per_page}/asc/1").status_code == 400


def test_api_and_page_lists_are_capped_at_100(app: Flask) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    client = app.test_client()
    assert client.get("/api/v1/webhooks/deliveries?per_page=100", headers=headers).status_code == 200
    assert client.get("/api/v1/webhooks/deliveries?per_page=101", headers=headers).status_code == 400
    assert client.get("/admin/scheduler?per_page=101", headers=headers).status_code == 400
    login(client, ADMIN_TOKEN)
    assert client.get("/dashboard/dead-letters?per_page=101").status_code == 400


@pytest.mark.parametrize("method", ["HEAD", "GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_rq_dashboard_actions_refuse_every_method_but_post(
    app: Flask, connection: Redis, settings: Settings, method: str
) -> None:
    job = enqueue(connection, settings, JobRequest("tests.fail")).job
    run_worker(connection)
    assert job.get_status() == "failed"
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    for url in (
        "/admin/queues/requeue/default",
        f"/admin/queues/job/{job.id}/requeue",
        f"/admin/queues/job/{job.id}/delete",
        "/admin/queues/queue/default/failed/empty",
        "/admin/queues/queue/default/compact",
    ):
        response = client.open(url, method=method, headers=SAME_ORIGIN)
        assert response.status_code == 405, (method, url)
    assert job.get_status(refresh=True) == "failed"


@pytest.mark.parametrize(
    "suffix",
    ["?password=hunter2-secret", "?sentinel_password=hunter2-secret&socket_timeout=5"],
)
def test_rq_dashboard_shows_the_redis_url_without_credentials(
    settings: Settings, connection: Redis, suffix: str
) -> None:
    url = settings.redis.url.replace("redis://", "redis://someone:hunter2-secret@") + suffix
    app = create_app(load_settings({**TEST_ENV, "REDIS_URL": url}), connection)
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    for page in ("/admin/queues/", "/admin/queues/0/view/workers", "/admin/queues/0/view/jobs"):
        html = client.get(page).get_data(as_text=True)
        assert "hunter2" not in html and "someone" not in html, page
        assert settings.redis.url.removeprefix("redis://").split("/")[0] in html, page


def test_redirects_are_relative_whatever_the_host_header(app: Flask) -> None:
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    evil = {"Host": "evil.example"}
    slash = client.get("/admin/queues", headers=evil)
    assert slash.status_code in (301, 308)
    assert slash.headers["Location"] == "/admin/queues/"
    assert "evil.example" not in slash.get_data(as_text=True)
    root = client.get("/", headers=evil)
    assert root.status_code == 302 and root.headers["Location"] == "/dashboard/"
    anonymous = app.test_client().get("/dashboard/health", headers=evil)
    assert anonymous.headers["Location"].startswith("/login?next=")
