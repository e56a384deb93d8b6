"""Helpers for tests of the browser surfaces: log a Flask test client in through the real form."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

ORIGIN = "http://localhost"  # the Flask test client's host
SAME_ORIGIN = {"Origin": ORIGIN}


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def login(client: FlaskClient, token: str) -> str:
    """Log in with ``token`` through GET+POST /login; return the session's CSRF token."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"token": token, "csrf_token": csrf_from(form.get_data(as_text=True))},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_from(client.get("/dashboard/").get_data(as_text=True))


def make_token(app: Flask, role: str) -> str:
    """A fresh API token secret with ``role``."""
    _, secret = app.extensions["taskyard"].tokens.create(f"test-{role}", role, None, datetime.now(UTC))
    return secret
