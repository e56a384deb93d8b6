"""Browser login: cookie flags, logout, revocation, CSRF, and slowing down repeated failures."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from redis import Redis

from jobs import keys
from tests.conftest import ADMIN_TOKEN
from tests.web_login import SAME_ORIGIN, csrf_from, login, make_token, post_login, submit_login
from web.security.session import MAX_FAILURES


def test_login_sets_a_strict_httponly_cookie_and_logout_ends_it(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/dashboard/").status_code == 302
    response = submit_login(client, ADMIN_TOKEN, "/dashboard/health")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/health"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    assert ADMIN_TOKEN not in cookie
    page = client.get("/dashboard/health")
    assert page.status_code == 200 and "Workers" in page.get_data(as_text=True)
    stolen = client.get_cookie("taskyard_session")
    assert stolen is not None
    csrf = csrf_from(page.get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": csrf}, headers=SAME_ORIGIN).status_code == 302
    assert client.get("/dashboard/health").status_code == 302
    # a copy of the cookie taken before logout is dead too: the session id is gone from Redis
    other = app.test_client()
    other.set_cookie("taskyard_session", stolen.value)
    assert other.get("/dashboard/").status_code == 302


def test_cookie_is_secure_behind_an_https_proxy(app: Flask) -> None:
    client = app.test_client()
    https = {"X-Forwarded-Proto": "https"}
    form = client.get("/login", headers=https)
    response = client.post(
        "/login",
        data={"token": ADMIN_TOKEN, "csrf_token": csrf_from(form.get_data(as_text=True))},
        headers={**https, "Origin": "https://localhost"},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_login_form_needs_its_csrf_token_and_same_origin(app: Flask) -> None:
    client = app.test_client()
    form = client.get("/login")
    token = csrf_from(form.get_data(as_text=True))
    assert client.post("/login", data={"token": ADMIN_TOKEN}, headers=SAME_ORIGIN).status_code == 403
    evil = {"Origin": "https://evil.example"}
    response = client.post("/login", data={"token": ADMIN_TOKEN, "csrf_token": token}, headers=evil)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_revoking_a_token_ends_its_browser_sessions(app: Flask) -> None:
    client = app.test_client()
    secret = make_token(app, "viewer")
    login(client, secret)
    assert client.get("/dashboard/").status_code == 200
    tokens = app.extensions["taskyard"].tokens
    (record,) = [r for r in tokens.all() if r.role == "viewer"]
    tokens.revoke(record.id, datetime.now(UTC))
    assert client.get("/dashboard/").status_code == 302


def test_pages_post_needs_csrf_token(app: Flask, connection: Redis) -> None:
    client = app.test_client()
    csrf = login(client, ADMIN_TOKEN)
    url = "/dashboard/dead-letters/nope/replay"
    assert client.post(url, headers=SAME_ORIGIN).status_code == 403
    assert client.post(url, data={"csrf_token": "wrong"}, headers=SAME_ORIGIN).status_code == 403
    assert client.post(url, data={"csrf_token": csrf}).status_code == 403  # no Origin/Referer
    assert client.post(url, data={"csrf_token": csrf}, headers=SAME_ORIGIN).status_code == 404


def test_repeated_failures_from_one_address_are_slowed_down(app: Flask, connection: Redis) -> None:
    client = app.test_client()
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    for _ in range(MAX_FAILURES):
        assert post_login(client, "wrong-token", csrf).status_code == 401
    # now even the right token must wait
    blocked = post_login(client, ADMIN_TOKEN, csrf)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    # another address is not affected
    other = app.test_client()
    other_csrf = csrf_from(other.get("/login").get_data(as_text=True))
    elsewhere = post_login(other, ADMIN_TOKEN, other_csrf, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert elsewhere.status_code == 302
    # when the wait is over the right token works; the failure count stays until it expires
    connection.delete(keys.login_block("127.0.0.1"))
    ok = post_login(client, ADMIN_TOKEN, csrf)
    assert ok.status_code == 302
    assert int(connection.get(keys.login_failures("127.0.0.1")) or 0) == MAX_FAILURES


def test_next_parameter_cannot_redirect_elsewhere(app: Flask) -> None:
    response = submit_login(app.test_client(), ADMIN_TOKEN, "//evil.example/")
    assert response.headers["Location"] == "/dashboard/"
