"""Webhooks end to end: REST → delivery jobs → a real HTTP receiver on 127.0.0.1, with retries driven by
the real scheduler engine and an in-process worker."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from flask import Flask
from redis import Redis
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from jobs import keys
from jobs.handler_context import use_settings
from jobs.settings import Settings, load_settings
from jobs.webhooks.store import WebhookStore
from tests.conftest import TEST_ENV, ApiClient
from tests.drive import drive
from tests.receivers import fail_then_succeed, serve
from web import create_app

SECRET = "whsec-0123456789abcdef"


def make(redis_url: str, **env: str) -> Settings:
    base = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "WEBHOOK_RETRY_SCHEDULE": "0,0"}
    return load_settings({**TEST_ENV, "REDIS_URL": redis_url, **base, **env})


@pytest.fixture
def wh(
    redis_url: str, connection: Redis, request: pytest.FixtureRequest
) -> Iterator[tuple[Settings, ApiClient]]:
    """Settings (extra environment through indirect parametrization), an admin API client, and the
    same settings installed for in-process workers."""
    settings = make(redis_url, **getattr(request, "param", {}))
    app: Flask = create_app(settings, connection)
    from tests.conftest import ADMIN_TOKEN

    with use_settings(settings):
        yield settings, ApiClient(app.test_client(), ADMIN_TOKEN)


def add_endpoint(api: ApiClient, url: str, events: list[str] | None = None, **extra: object) -> dict:
    body = {"url": url + "/hook", "secret": SECRET, "events": events or ["order.created"], **extra}
    response = api.post("/api/v1/webhooks/endpoints", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def delivery(api: ApiClient, delivery_id: str) -> dict:
    response = api.get(f"/api/v1/webhooks/deliveries/{delivery_id}")
    assert response.status_code == 200
    return response.get_json()


def verify(request_headers: dict[str, str], body: bytes) -> bool:
    timestamp = request_headers["X-Taskyard-Timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request_headers["X-Taskyard-Signature"], "sha256=" + expected)


@pytest.mark.parametrize("wh", [{"WEBHOOK_RETRY_SCHEDULE": "1,2"}], indirect=True)
def test_receiver_failing_twice_sees_three_signed_attempts_at_the_configured_delays(wh, connection):
    settings, api = wh
    with serve(fail_then_succeed(2)) as receiver:
        add_endpoint(api, receiver.url)
        response = api.post("/api/v1/events", json={"type": "order.created", "payload": {"order": 42}})
        assert response.status_code == 202
        [queued] = response.get_json()["deliveries"]
        drive(connection, settings, lambda: delivery(api, queued["id"])["status"] == "delivered")
        got = receiver.requests
    assert len(got) == 3
    first_gap, second_gap = got[1].at - got[0].at, got[2].at - got[1].at
    # never early; late by at most the whole-second rounding of delayed jobs plus a loaded machine
    assert 1.0 <= first_gap < 3.0, first_gap
    assert 2.0 <= second_gap < 4.0, second_gap
    for request in got:
        assert verify(request.headers, request.body)
        assert request.headers["X-Taskyard-Event"] == "order.created"
        assert request.headers["X-Taskyard-Delivery"] == queued["id"]
        assert request.json()["payload"] == {"order": 42}
    assert len({r.body for r in got}) == 1  # every attempt sends the same body
    final = delivery(api, queued["id"])
    assert final["attempts"] == 3
    log = final["attempt_log"]
    assert [a["status_code"] for a in log] == [500, 500, 200]
    assert [a["error"] for a in log] == ["HTTP 500", "HTTP 500", None]
    assert all(a["latency_ms"] >= 0 and a["at"] for a in log)


def test_fan_out_reaches_only_active_subscribers(wh, connection):
    settings, api = wh
    with serve(fail_then_succeed(0)) as a, serve(fail_then_succeed(0)) as b, serve(fail_then_succeed(0)) as c:
        add_endpoint(api, a.url, ["order.created"])
        add_endpoint(api, b.url, ["*"])
        add_endpoint(api, c.url, ["order.created"], active=False)
        add_endpoint(api, c.url, ["user.deleted"])
        response = api.post("/api/v1/events", json={"type": "order.created", "payload": None})
        deliveries = response.get_json()["deliveries"]
        assert len(deliveries) == 2
        ids = [d["id"] for d in deliveries]
        drive(connection, settings, lambda: all(delivery(api, i)["status"] == "delivered" for i in ids))
        assert (len(a.requests), len(b.requests), len(c.requests)) == (1, 1, 0)


def test_exhausted_delivery_is_failed_listed_and_replayable(wh, connection):
    settings, api = wh
    state = {"up": False}
    with serve(lambda request, n: (200, None) if state["up"] else (503, None)) as receiver:
        endpoint = add_endpoint(api, receiver.url)
        [queued] = api.post("/api/v1/events", json={"type": "order.created"}).get_json()["deliveries"]
        drive(connection, settings, lambda: delivery(api, queued["id"])["status"] == "failed")
        assert len(receiver.requests) == 3  # first attempt + WEBHOOK_RETRY_SCHEDULE's two retries
        job = Job.fetch(delivery(api, queued["id"])["job_id"], connection=connection)
        assert job.get_status() == "failed"  # the last attempt's RQ job fails too

        dead = api.get(f"/api/v1/webhooks/deliveries?status=failed&endpoint={endpoint['id']}").get_json()
        assert [d["id"] for d in dead["items"]] == [queued["id"]] and dead["total"] == 1
        assert api.get("/api/v1/webhooks/deliveries?status=delivered").get_json()["total"] == 0

        state["up"] = True
        replay = api.post(f"/api/v1/webhooks/deliveries/{queued['id']}/retry")
        assert replay.status_code == 202
        drive(connection, settings, lambda: delivery(api, queued["id"])["status"] == "delivered")
        assert len(receiver.requests) == 4
    again = api.post(f"/api/v1/webhooks/deliveries/{queued['id']}/retry")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_replayable"


@pytest.mark.parametrize("wh", [{"WEBHOOK_RETRY_SCHEDULE": "3600"}], indirect=True)
def test_retry_all_requeues_a_delivery_whose_scheduled_retry_was_lost(wh, connection):
    settings, api = wh
    with serve(fail_then_succeed(1)) as receiver:
        add_endpoint(api, receiver.url)
        [queued] = api.post("/api/v1/events", json={"type": "order.created"}).get_json()["deliveries"]
        drive(connection, settings, lambda: delivery(api, queued["id"])["status"] == "retrying")
        record = delivery(api, queued["id"])
        registry = ScheduledJobRegistry("default", connection=connection)
        assert record["job_id"] in registry.get_job_ids()
        # Lose the schedule (as a crash or a flushed registry would) and make the retry due now.
        connection.zrem(registry.key, record["job_id"])
        connection.zadd(keys.WEBHOOK_RETRY_DUE, {queued["id"]: 0})

        response = api.post("/api/v1/webhooks/retry-all")
        assert response.status_code == 202
        sweep_id = response.get_json()["job_id"]
        drive(connection, settings, lambda: delivery(api, queued["id"])["status"] == "delivered", timeout=10)
        assert api.get(f"/api/v1/jobs/{sweep_id}").get_json()["result"] == {"checked": 1, "requeued": 1}
        assert len(receiver.requests) == 2


def test_endpoint_secrets_are_encrypted_and_never_returned(wh, connection):
    _settings, api = wh
    endpoint = add_endpoint(api, "http://127.0.0.1:9")
    raw = connection.hget(keys.WEBHOOK_ENDPOINTS, endpoint["id"])
    assert SECRET.encode() not in raw and "secret_encrypted" in json.loads(raw)
    for body in (endpoint, api.get(f"/api/v1/webhooks/endpoints/{endpoint['id']}").get_json(),
                 api.get("/api/v1/webhooks/endpoints").get_json()):  # fmt: skip
        assert SECRET not in json.dumps(body) and "secret" not in json.dumps(body).replace("secret_", "")
    changed = api.client.patch(
        f"/api/v1/webhooks/endpoints/{endpoint['id']}", json={"active": False}, headers=api._headers(None)
    )
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    assert api.delete(f"/api/v1/webhooks/endpoints/{endpoint['id']}").status_code == 200
    assert api.get(f"/api/v1/webhooks/endpoints/{endpoint['id']}").status_code == 404


def test_private_targets_are_refused_unless_allowed(redis_url, connection):
    from tests.conftest import ADMIN_TOKEN

    strict = load_settings({**TEST_ENV, "REDIS_URL": redis_url})
    api = ApiClient(create_app(strict, connection).test_client(), ADMIN_TOKEN)
    for url in ("http://127.0.0.1:8080/x", "http://localhost/x", "http://169.254.169.254/latest",
                "http://10.1.2.3/", "http://[::1]/", "ftp://example.com/"):  # fmt: skip
        response = api.post(
            "/api/v1/webhooks/endpoints", json={"url": url, "secret": SECRET, "events": ["*"]}
        )
        assert response.status_code == 400, url
        assert response.get_json()["error"]["code"] in ("target_refused", "validation_error")


def test_bad_input_gets_4xx(wh):
    _settings, api = wh
    assert api.post("/api/v1/webhooks/endpoints", json={"url": "http://127.0.0.1/"}).status_code == 400
    assert api.post("/api/v1/events", json={"type": "has space"}).status_code == 400
    assert api.get("/api/v1/webhooks/deliveries?status=nope").status_code == 400
    assert api.get("/api/v1/webhooks/deliveries?per_page=0").status_code == 400
    assert api.get("/api/v1/webhooks/deliveries/whd_0000000000000000").status_code == 404
    assert api.post("/api/v1/webhooks/deliveries/nope/retry").status_code == 404


def test_cleanup_removes_only_old_finished_deliveries(wh, connection):
    from jobs.builtin.webhooks import run_cleanup

    settings, api = wh
    with serve(fail_then_succeed(0)) as receiver:
        add_endpoint(api, receiver.url)
        ids = [api.post("/api/v1/events", json={"type": "order.created"}).get_json()["deliveries"][0]["id"]
               for _ in range(2)]  # fmt: skip
        drive(connection, settings, lambda: all(delivery(api, i)["status"] == "delivered" for i in ids))
    store = WebhookStore(connection)
    pending = store.create_delivery(store.endpoints()[0], "evt_x", "order.created", "{}", now=0)
    import time

    later = time.time() + 31 * 86400
    assert run_cleanup(connection, 30, dry_run=True, now=later)["deliveries_removed"] == 2
    assert len(store.list_deliveries(None, None, 1, 50)[0]) == 3
    assert run_cleanup(connection, 30, now=later) == {"deliveries_removed": 2, "unfinished_kept": 1,
                                                      "dry_run": False}  # fmt: skip
    assert [d.id for d in store.list_deliveries(None, None, 1, 50)[0]] == [pending.id]
    assert connection.exists(keys.webhook_attempts(ids[0])) == 0
