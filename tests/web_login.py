"""Helpers for tests of the browser surfaces: log a Flask test client in through the real form."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

ORIGIN = "http://localhost"  # the Flask test client's host
SAME_ORIGIN = {"Origin": ORIGIN}


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def post_login(
    client: FlaskClient, token: str, csrf: str, next_path: str | None = None, **kw: Any
) -> TestResponse:
    """POST the login form: ``token`` with the CSRF token ``csrf`` (and ``next``), from this origin;
    ``kw`` goes to the test client (``environ_base`` for another address)."""
    data = {"token": token, "csrf_token": csrf}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/login", data=data, headers=SAME_ORIGIN, **kw)


def submit_login(
    client: FlaskClient, token: str, next_path: str | None = None, form_query: dict[str, str] | None = None
) -> TestResponse:
    """GET /login (with ``form_query``), then post its form with ``token`` (and ``next``); returns the
    POST's response."""
    form = client.get("/login", query_string=form_query)
    assert form.status_code == 200, form.status
    return post_login(client, token, csrf_from(form.get_data(as_text=True)), next_path)


def login(client: FlaskClient, token: str) -> str:
    """Log in with ``token`` through GET+POST /login; return the session's CSRF token."""
    response = submit_login(client, token)
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_from(client.get("/dashboard/").get_data(as_text=True))


def make_token(app: Flask, role: str) -> str:
    """A fresh API token secret with ``role``."""
    _, secret = app.extensions["taskyard"].tokens.create(f"test-{role}", role, None, datetime.now(UTC))
    return secret
