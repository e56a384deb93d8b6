"""Webhook deliveries verified by a receiver using the ``standardwebhooks`` package, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from jobs.handler_context import use_settings
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient
from tests.drive import drive
from tests.receivers import Received, fail_then_succeed, serve
from web import create_app


@pytest.fixture
def wh(redis_url: str, connection: Redis) -> Iterator[tuple[Settings, ApiClient]]:
    settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
                              "WEBHOOK_RETRY_SCHEDULE": "0"})  # fmt: skip
    with use_settings(settings):
        yield settings, ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)


def deliver(wh: tuple[Settings, ApiClient], connection: Redis, url: str, **endpoint: object) -> dict:
    settings, api = wh
    registered = api.post(
        "/api/v1/webhooks/endpoints", json={"url": url + "/hook", "events": ["order.created"], **endpoint}
    )
    assert registered.status_code == 201, registered.get_json()
    [queued] = api.post("/api/v1/events", json={"type": "order.created", "payload": {"order": 7}}).get_json()[
        "deliveries"
    ]

    def delivered() -> bool:
        return api.get(f"/api/v1/webhooks/deliveries/{queued['id']}").get_json()["status"] == "delivered"

    drive(connection, settings, delivered)
    return {"endpoint": registered.get_json(), "delivery": queued}


def headers(request: Received) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


def test_a_generated_secret_verifies_with_the_standard_library(wh, connection: Redis) -> None:  # type: ignore[no-untyped-def]
    """The task-scheduling note's webhook system "Implements exponential backoff retry logic" for
    deliveries; a receiver verifies each one with the ``standardwebhooks`` package: ``webhook-id``,
    ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    with serve(fail_then_succeed(1)) as receiver:
        result = deliver(wh, connection, receiver.url)
        got = receiver.wait_for(2)
    secret = result["endpoint"]["secret"]
    assert secret.startswith("whsec_")
    verifier = Webhook(secret)
    for request in got:
        assert verifier.verify(request.body, request.headers) == request.json()
        assert headers(request)["webhook-id"] == result["delivery"]["id"]  # the same on the retry
        assert headers(request)["x-taskyard-signature"].startswith("sha256=")  # existing receivers
    tampered = {**got[0].headers, "webhook-id": "msg_forged"}
    with pytest.raises(WebhookVerificationError):
        verifier.verify(got[0].body, tampered)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(got[0].body + b" ", got[0].headers)
    shown = wh[1].get(f"/api/v1/webhooks/endpoints/{result['endpoint']['id']}").get_json()
    assert "secret" not in shown  # shown once, at registration


def test_a_free_form_secret_verifies_as_raw_key_bytes(wh, connection: Redis) -> None:  # type: ignore[no-untyped-def]
    """An endpoint registered with its own (non-``whsec_``) secret: the receiver passes the secret's
    bytes, ``Webhook(secret.encode())``; Taskyard's own header still verifies as before."""
    secret = "an-existing-free-form-secret"
    with serve(fail_then_succeed(0)) as receiver:
        result = deliver(wh, connection, receiver.url, secret=secret)
        [request] = receiver.wait_for(1)
    assert "secret" not in result["endpoint"]
    assert Webhook(secret.encode()).verify(request.body, request.headers)["payload"] == {"order": 7}


def test_a_malformed_whsec_secret_is_refused(wh) -> None:  # type: ignore[no-untyped-def]
    """``whsec_`` announces the scheme's base64 key; anything else after it is a 400."""
    _settings, api = wh
    response = api.post(
        "/api/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": "whsec_not base64 at all!"},
    )
    assert response.status_code == 400
    assert "secret" in str(response.get_json()["error"])
