"""Every route of the app, for every role: 401/redirect without credentials, 403 where the role may not.

The routes come from the app's own url_map, so a route added later is covered (or fails here until it
is classified). API routes take bearer tokens; browser surfaces (our pages, rq-dashboard) take the
session cookie set by /login.
"""

from __future__ import annotations

import re

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient

from jobs.settings import load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV
from tests.web_login import SAME_ORIGIN, login, make_token
from web import create_app

PUBLIC = {
    "/healthz",
    "/api/v1/openapi.json",
    "/login",
    "/logout",
    "/",
    "/static/<path:filename>",
    "/dashboard/static/<path:filename>",
    "/admin/queues/static/<path:filename>",
}
BROWSER_PREFIXES = ("/dashboard", "/admin/queues")
ADMIN_ONLY_READS = {
    "/api/v1/tokens",
    "/api/v1/queues/stats",
    # viewers never reach the console's edit forms (nor the form's next-runs preview)
    "/dashboard/schedules/new",
    "/dashboard/schedules/<task_id>/edit",
    "/dashboard/schedules/preview",
    "/dashboard/webhooks/endpoints/new",
    "/dashboard/webhooks/endpoints/<endpoint_id>/edit",
}
# /metrics takes a viewer or admin bearer token (or METRICS_TOKEN, or an allowed address)
SAFE = ("GET", "HEAD", "OPTIONS")
# rq-dashboard answers GET /requeue/<queue> with a state change; we refuse that form for everyone
REFUSED = {("/admin/queues/requeue/<queue_name>", "GET")}
VALUES = {"instance_number": "0", "per_page": "8", "page": "1", "order": "asc", "registry_name": "failed"}


def _routes() -> list[tuple[str, str]]:
    app = create_app(load_settings(TEST_ENV), fakeredis.FakeRedis())
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.rule, method))
    return sorted(routes)


def _url(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: VALUES.get(m.group(1), "default"), rule)


def _call(client: FlaskClient, method: str, url: str, headers: dict[str, str], csrf: str | None = None):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf} if csrf else None
    response = client.open(url, method=method, headers=headers, data=data)
    if response.status_code == 308:  # routing's canonical-URL redirect (e.g. /admin/queues/0/)
        response = client.open(response.headers["Location"], method=method, headers=headers, data=data)
    response.get_data()
    response.close()
    return response


ROUTES = _routes()


@pytest.mark.parametrize(("rule", "method"), ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_roles(app: Flask, rule: str, method: str) -> None:
    url = _url(rule)
    browser = rule.startswith(BROWSER_PREFIXES)
    if rule in PUBLIC:
        response = _call(app.test_client(), method, url, SAME_ORIGIN)
        assert response.status_code != 401 and response.status_code < 500, response.get_data(as_text=True)
        return
    if (rule, method) in REFUSED:
        assert _call(app.test_client(), method, url, SAME_ORIGIN).status_code == 405
        return
    viewer_secret = make_token(app, "viewer")
    anonymous = _call(app.test_client(), method, url, SAME_ORIGIN)
    if browser and method in SAFE:
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"].startswith("/login")
    else:
        assert anonymous.status_code == 401, anonymous.get_data(as_text=True)
    if browser:
        viewer = app.test_client()
        viewer_csrf = login(viewer, viewer_secret)
        as_viewer = _call(viewer, method, url, SAME_ORIGIN, viewer_csrf)
        admin = app.test_client()
        admin_csrf = login(admin, ADMIN_TOKEN)
        as_admin = _call(admin, method, url, SAME_ORIGIN, admin_csrf)
    else:
        wrong = _call(app.test_client(), method, url, {"Authorization": "Bearer not-a-token"})
        assert wrong.status_code == 401
        as_viewer = _call(app.test_client(), method, url, {"Authorization": f"Bearer {viewer_secret}"})
        as_admin = _call(app.test_client(), method, url, {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    if method not in SAFE or rule in ADMIN_ONLY_READS:
        assert as_viewer.status_code == 403, as_viewer.get_data(as_text=True)
    else:
        assert as_viewer.status_code not in (401, 403) and as_viewer.status_code < 500
    assert as_admin.status_code not in (401, 403), as_admin.get_data(as_text=True)
    assert as_admin.status_code < 500, as_admin.get_data(as_text=True)
