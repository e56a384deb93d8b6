"""OAuth integrations against a real token endpoint on 127.0.0.1, a real SMTP server and the real
scheduler engine + worker."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from jobs import keys
from jobs.builtin.oauth import run_health_check, run_refresh
from jobs.crypto import cipher
from jobs.handler_context import use_settings
from jobs.integrations.store import IntegrationStore, health_job_id, refresh_job_id
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient
from tests.drive import drive
from tests.receivers import Received, serve
from tests.smtp import smtp_server
from web import create_app

CLIENT_SECRET = "client-secret-abcdef"
ACCESS, REFRESH = "access-token-initial", "refresh-token-initial"


def issue_tokens(request: Received, n: int) -> tuple[int, dict]:
    form = parse_qs(request.body.decode())
    if form.get("grant_type") != ["refresh_token"] or form.get("client_secret") != [CLIENT_SECRET]:
        return 400, {"error": "invalid_request"}
    return 200, {"access_token": f"access-{n}", "refresh_token": f"refresh-{n}", "expires_in": 3600}


@pytest.fixture
def env(
    redis_url: str, connection: Redis, request: pytest.FixtureRequest
) -> Iterator[tuple[Settings, ApiClient]]:
    extra = getattr(request, "param", {})
    settings = load_settings(
        {**TEST_ENV, "REDIS_URL": redis_url, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", **extra}
    )
    with use_settings(settings):
        yield settings, ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)


def register(api: ApiClient, token_url: str, expires_in: int = 3600, **extra: object) -> dict:
    body = {"tenant_id": "t1", "provider": "acme", "token_url": token_url, "client_id": "cid",
            "client_secret": CLIENT_SECRET, "access_token": ACCESS, "refresh_token": REFRESH,
            "expires_in": expires_in, "owner_email": "owner@example.com", **extra}  # fmt: skip
    response = api.post("/api/v1/integrations", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def scheduled(connection: Redis) -> dict[str, float]:
    registry = ScheduledJobRegistry("default", connection=connection)
    return {k.decode(): v for k, v in connection.zrange(registry.key, 0, -1, withscores=True)}


def test_registration_encrypts_secrets_and_schedules_stable_jobs_five_minutes_before_expiry(env, connection):
    _settings, api = env
    before = time.time()
    created = register(api, "http://127.0.0.1:9/token", expires_in=3600)
    text = json.dumps(created) + json.dumps(api.get("/api/v1/integrations").get_json())
    assert all(secret not in text for secret in (CLIENT_SECRET, ACCESS, REFRESH))
    raw = connection.hget(keys.INTEGRATIONS, created["id"]).decode()
    assert all(secret not in raw for secret in (CLIENT_SECRET, ACCESS, REFRESH))
    jobs = scheduled(connection)
    refresh_at = jobs[refresh_job_id(created["id"])]
    assert before + 3600 - 300 <= refresh_at <= time.time() + 3600 - 300 + 1
    assert health_job_id(created["id"]) in jobs
    # registering the refresh again replaces the job: still one, same id
    from jobs.integrations.store import schedule_refresh

    store = IntegrationStore(connection, cipher(_settings))
    schedule_refresh(connection, _settings, store.get(created["id"]), time.time())
    assert sorted(scheduled(connection)) == sorted(jobs)


def test_refresh_runs_five_minutes_before_expiry_with_a_controlled_clock(env, connection):
    settings, api = env
    with serve(issue_tokens) as provider:
        created = register(api, provider.url + "/token", expires_in=3600)
        store = IntegrationStore(connection, cipher(settings))
        integration = store.get(created["id"])
        due = integration.expires_at - 300
        result = run_refresh(connection, settings, created["id"], now=lambda: due)
        [call] = provider.requests
    form = parse_qs(call.body.decode())
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [REFRESH]
    updated = store.get(created["id"])
    assert store.secret(updated.access_token_enc) == "access-1"
    assert store.secret(updated.refresh_token_enc) == "refresh-1"
    assert updated.expires_at == due + 3600 and updated.last_refreshed_at == due
    assert result["next_refresh_at"] == due + 3600 - 300


def test_refresh_job_fires_on_time_and_reschedules_itself_under_the_same_id(env, connection):
    settings, api = env
    with serve(issue_tokens) as provider:
        created = register(api, provider.url + "/token", expires_in=302)  # due in 2 s
        expires_at = time.time() + 302
        drive(connection, settings, lambda: len(provider.requests) == 1, timeout=10)
        fired = provider.requests[0].at
    assert fired >= expires_at - 300 - 0.5  # never (meaningfully) early: enqueue rounds delays up
    assert fired < expires_at - 300 + 2.5
    job_id = refresh_job_id(created["id"])
    next_at = scheduled(connection)[job_id]  # the same job, repeated by RQ
    assert abs(next_at - (fired + 3600 - 300)) <= 2
    assert [j for j in scheduled(connection) if j.startswith("oauth-refresh-")] == [job_id]
    view = api.get(f"/api/v1/integrations/{created['id']}").get_json()
    assert view["status"] == "active" and view["refreshes"] == 1


def test_failed_refresh_marks_expired_with_the_reason_and_retries(env, connection):
    settings, api = env
    with serve(lambda request, n: (500, {"error": "server_error"})) as provider:
        created = register(api, provider.url + "/token", expires_in=60)  # already inside the lead: now
        drive(connection, settings, lambda: len(provider.requests) >= 1, timeout=10)
    view = api.get(f"/api/v1/integrations/{created['id']}").get_json()
    assert view["status"] == "expired" and "HTTP 500" in view["status_reason"]
    job = Job.fetch(refresh_job_id(created["id"]), connection=connection)
    assert (
        job.get_status() == "scheduled" and job.retries_left == 1
    )  # the retry policy applies: 3 attempts in all


def test_two_refreshes_of_one_integration_never_overlap(env, connection):
    settings, api = env
    with serve(issue_tokens, delay=1.0) as provider:
        created = register(api, provider.url + "/token")
        results: list[dict] = []
        threads = [threading.Thread(target=lambda: results.append(run_refresh(connection, settings, created["id"])))
                   for _ in range(2)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert len(provider.requests) == 1
    assert sorted("skipped" in r for r in results) == [False, True]


def test_manual_refresh_endpoint_runs_a_refresh_now(env, connection):
    settings, api = env
    with serve(issue_tokens) as provider:
        created = register(api, provider.url + "/token")
        wrong = api.post(f"/api/v1/oauth/tenants/other/integrations/{created['id']}/refresh")
        assert wrong.status_code == 404
        response = api.post(f"/api/v1/oauth/tenants/t1/integrations/{created['id']}/refresh")
        assert response.status_code == 202
        assert response.get_json()["job_id"] == refresh_job_id(created["id"])
        drive(connection, settings, lambda: len(provider.requests) == 1, timeout=10)
    assert api.get(f"/api/v1/integrations/{created['id']}").get_json()["refreshes"] == 1
    assert [j for j in scheduled(connection) if j.startswith("oauth-refresh-")] == [
        refresh_job_id(created["id"])
    ]


def test_health_check_of_an_expired_integration_puts_a_refresh_at_the_front(env, connection):
    settings, api = env
    created = register(api, "http://127.0.0.1:9/token")
    store = IntegrationStore(connection, cipher(settings))
    Queue("default", connection=connection).enqueue("tests.fixtures.add", 1, 2)  # something already queued
    result = run_health_check(connection, settings, created["id"], now=lambda: time.time() + 7200)
    assert result["status"] == "expired"
    assert Queue("default", connection=connection).get_job_ids()[0] == refresh_job_id(created["id"])
    assert store.get(created["id"]).status == "active"  # the refresh decides, not the check


def test_revoked_integration_notifies_the_owner_by_email_and_webhook(env, connection, redis_url):
    with smtp_server() as inbox, serve(lambda request, n: (200, {})) as hooks, \
            serve(lambda request, n: (400, {"error": "invalid_grant"})) as provider:  # fmt: skip
        settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
                                  "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(inbox.port)})  # fmt: skip
        api = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
        with use_settings(settings):
            api.post("/api/v1/webhooks/endpoints",
                     json={"url": hooks.url, "secret": "s" * 16, "events": ["integration.revoked"]})  # fmt: skip
            created = register(api, provider.url + "/token")
            result = run_refresh(connection, settings, created["id"])
            assert result["status"] == "revoked"
            assert run_health_check(connection, settings, created["id"])["action"] == "owner notified"
            assert run_health_check(connection, settings, created["id"])["action"] == "none"  # told once
            drive(
                connection,
                settings,
                lambda: len(inbox.messages) == 1 and len(hooks.requests) == 1,
                timeout=10,
            )
    [message] = inbox.messages
    assert inbox.recipients == [["owner@example.com"]] and "acme" in message["Subject"]
    event = hooks.requests[0].json()
    # the notes name the event access_revoked; a subscriber of the older name integration.revoked gets it
    assert event["type"] == "access_revoked" and event["payload"]["integration_id"] == created["id"]


@pytest.mark.parametrize(
    "env", [{"BREAKER_FAILURE_THRESHOLD": "1", "BREAKER_RECOVERY_TIMEOUT": "30"}], indirect=True
)
def test_refresh_is_deferred_while_the_providers_breaker_is_open(env, connection):
    from jobs.outbound.url_policy import host_of
    from jobs.resilience.breaker import Breaker

    settings, api = env
    with serve(issue_tokens) as provider:
        created = register(api, provider.url + "/token", expires_in=60)  # due now
        Breaker(connection, settings, host_of(provider.url)).failure()  # another job saw the host fail
        drive(
            connection, settings, lambda: refresh_job_id(created["id"]) in scheduled(connection), timeout=10
        )
        assert provider.requests == []  # not called while open
    job = Job.fetch(refresh_job_id(created["id"]), connection=connection)
    assert job.retries_left == 2  # deferred, no retry spent
    assert 28 <= scheduled(connection)[job.id] - time.time() <= 32  # until the breaker may half-open
    assert job.latest_result().return_value["deferred"] == "circuit breaker open"
