"""ADMIN_PATHS_ADMIN_ONLY: the design notes' rule that viewers see nothing under /admin/."""

from __future__ import annotations

import pytest
from flask import Flask
from redis import Redis

from jobs.settings import load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient
from tests.web_login import login, make_token
from web import create_app

READS = ("/admin/scheduler", "/admin/scheduler/health", "/admin/scheduler/dead-letters", "/admin/queues/")


def app_with(redis_url: str, connection: Redis, **env: str) -> Flask:
    return create_app(load_settings({**TEST_ENV, "REDIS_URL": redis_url, **env}), connection)


def test_by_default_viewers_read_under_admin(redis_url: str, connection: Redis) -> None:
    """Taskyard's default keeps read-only viewers under /admin/ (a difference from the notes)."""
    app = app_with(redis_url, connection)
    viewer = ApiClient(app.test_client(), make_token(app, "viewer"))
    for url in READS:
        assert viewer.get(url).status_code == 200, url


@pytest.mark.parametrize("url", READS)
def test_with_the_setting_viewers_see_nothing_under_admin(
    redis_url: str, connection: Redis, url: str
) -> None:
    """The scheduled-tasks note: "All task management endpoints require admin privileges"; the
    background-jobs note: ``app.use('/admin/queues', requireSuperAdminRole(), ...)``."""
    app = app_with(redis_url, connection, ADMIN_PATHS_ADMIN_ONLY="true")
    viewer = ApiClient(app.test_client(), make_token(app, "viewer"))
    refused = viewer.get(url)
    assert refused.status_code == 403
    assert "ADMIN_PATHS_ADMIN_ONLY" in refused.get_json()["error"]["message"]
    assert ApiClient(app.test_client(), ADMIN_TOKEN).get(url).status_code == 200
    assert app.test_client().get(url).status_code in (302, 401)  # anonymous: the usual login/401
    assert viewer.get("/api/v1/queues").status_code == 200  # the API keeps its viewers


def test_with_the_setting_a_logged_in_viewer_gets_a_page_not_the_dashboard(
    redis_url: str, connection: Redis
) -> None:
    """The same rule for a browser session on rq-dashboard (``/admin/queues``): an HTML 403 page."""
    app = app_with(redis_url, connection, ADMIN_PATHS_ADMIN_ONLY="true")
    browser = app.test_client()
    login(browser, make_token(app, "viewer"))
    page = browser.get("/admin/queues/", headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert page.mimetype == "text/html" and "ADMIN_PATHS_ADMIN_ONLY" in page.get_data(as_text=True)
    assert browser.get("/dashboard/").status_code == 200  # our console keeps its viewers
