"""Webhook deliveries behind a circuit breaker and a per-endpoint rate limit, against real receivers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from redis import Redis

from jobs.handler_context import use_settings
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient
from tests.drive import drive
from tests.receivers import serve
from web import create_app


@pytest.fixture
def wh(
    redis_url: str, connection: Redis, request: pytest.FixtureRequest
) -> Iterator[tuple[Settings, ApiClient]]:
    env = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", **request.param}
    settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, **env})
    app: Flask = create_app(settings, connection)
    with use_settings(settings):
        yield settings, ApiClient(app.test_client(), ADMIN_TOKEN)


def status_of(api: ApiClient, delivery_id: str) -> dict:
    return api.get(f"/api/v1/webhooks/deliveries/{delivery_id}").get_json()


BREAKER_ENV = {
    "WEBHOOK_RETRY_SCHEDULE": "0,0,0,0,0,0",
    "BREAKER_FAILURE_THRESHOLD": "2",
    "BREAKER_RECOVERY_TIMEOUT": "2",
    "BREAKER_SUCCESS_THRESHOLD": "1",
}


@pytest.mark.parametrize("wh", [BREAKER_ENV], indirect=True)
def test_open_breaker_defers_deliveries_without_burning_retries(wh, connection):
    settings, api = wh
    up = {"value": False}
    with serve(lambda request, n: (200, None) if up["value"] else (502, None)) as receiver:
        host = receiver.url.removeprefix("http://")
        api.post(
            "/api/v1/webhooks/endpoints", json={"url": receiver.url, "secret": "s" * 16, "events": ["*"]}
        )
        [queued] = api.post("/api/v1/events", json={"type": "ping"}).get_json()["deliveries"]

        def opened() -> bool:
            items = api.get("/api/v1/breakers").get_json()["items"]
            return any(b["name"] == host and b["state"] == "open" for b in items)

        drive(connection, settings, opened)
        assert len(receiver.requests) == 2
        deferred = status_of(api, queued["id"])
        assert deferred["attempts"] == 2 and deferred["status"] == "retrying"
        up["value"] = True
        drive(connection, settings, lambda: status_of(api, queued["id"])["status"] == "delivered", timeout=10)
    final = status_of(api, queued["id"])
    # the attempts while the breaker was open were deferred, not made and not counted
    assert final["attempts"] == 3 and len(receiver.requests) == 3
    assert receiver.requests[2].at - receiver.requests[1].at >= 2.0 - 1.0  # waited for half-open
    [breaker] = [b for b in api.get("/api/v1/breakers").get_json()["items"] if b["name"] == host]
    assert breaker["state"] == "closed"


@pytest.mark.parametrize("wh", [{"WEBHOOK_RATE_PER_SECOND": "2"}], indirect=True)
def test_rate_limit_spreads_deliveries_to_one_endpoint(wh, connection):
    settings, api = wh
    with serve(lambda request, n: (200, None)) as receiver:
        api.post(
            "/api/v1/webhooks/endpoints", json={"url": receiver.url, "secret": "s" * 16, "events": ["*"]}
        )
        ids = [
            api.post("/api/v1/events", json={"type": "ping"}).get_json()["deliveries"][0]["id"]
            for _ in range(5)
        ]
        drive(connection, settings, lambda: all(status_of(api, i)["status"] == "delivered" for i in ids))
        times = sorted(r.at for r in receiver.requests)
    assert len(times) == 5
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t - start < 1.0) <= 2, times
    assert all(status_of(api, i)["attempts"] == 1 for i in ids)  # deferrals are not attempts
