"""OAuth integrations as the background-jobs design note specifies them: the refresh queue's retries,
the synchronous refresh and health check, one job chain per integration, the access_revoked event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis
from rq.job import Job

from jobs.builtin.oauth import run_refresh
from jobs.handler_context import use_settings
from jobs.integrations.store import health_job_id, refresh_job_id
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient, run_worker
from tests.drive import drive
from tests.integration.test_oauth import issue_tokens, register, scheduled
from tests.receivers import fail_then_succeed, serve
from web import create_app


@pytest.fixture
def note(redis_url: str, connection: Redis) -> Iterator[tuple[Settings, ApiClient]]:
    settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
                              "OAUTH_TIMEOUT": "0.5"})  # fmt: skip
    with use_settings(settings):
        yield settings, ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)


def refresh_url(created: dict) -> str:
    return f"/api/v1/oauth/tenants/t1/integrations/{created['id']}/refresh"


def test_the_refresh_job_retries_as_the_notes_queue_does(note, connection: Redis) -> None:  # type: ignore[no-untyped-def]
    """The note's token refresh queue: ``attempts: 3, backoff: { type: 'exponential', delay: 5000 }``:
    3 attempts in all, the retries 5 s and 10 s after a failure."""
    _settings, api = note
    created = register(api, "http://127.0.0.1:9/token")
    job = Job.fetch(refresh_job_id(created["id"]), connection=connection)
    assert (job.retries_left, job.retry_intervals) == (2, [5, 10])


def test_refresh_with_wait_answers_the_updated_integration(note, connection: Redis) -> None:  # type: ignore[no-untyped-def]
    """The note's synchronous refresh: ``const updatedIntegration = await
    cloudIntegrationsService.updateTokens(...); return jsonResponse(res, 200, updatedIntegration);``"""
    _settings, api = note
    with serve(issue_tokens) as provider:
        created = register(api, provider.url + "/token")
        response = api.post(refresh_url(created), query_string={"wait": "true"})
        assert len(provider.requests) == 1
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["id"], body["status"], body["refreshes"]) == (created["id"], "active", 1)
    assert body["last_refreshed_at"] is not None
    assert api.post(refresh_url(created), query_string={"wait": "maybe"}).status_code == 400
    assert [j for j in scheduled(connection) if j.startswith("oauth-refresh-")] == [
        refresh_job_id(created["id"])
    ]


def test_refresh_with_wait_reports_a_failing_or_slow_provider_within_its_timeout(note) -> None:  # type: ignore[no-untyped-def]
    """A provider that fails (HTTP 500) or does not answer within OAUTH_TIMEOUT: a 502 naming why, and
    the integration marked ``expired`` as the note's background refresh does."""
    _settings, api = note
    with serve(fail_then_succeed(9)) as failing, serve(issue_tokens, delay=3.0) as slow:
        for provider, reason in ((failing, "HTTP 500"), (slow, "unreachable")):
            created = register(api, provider.url + "/token")
            response = api.post(refresh_url(created), query_string={"wait": "true"})
            assert response.status_code == 502
            assert reason in response.get_json()["error"]["message"]
            assert api.get(f"/api/v1/integrations/{created['id']}").get_json()["status"] == "expired"


def test_an_on_demand_health_check_answers_and_starts_no_second_chain(note, connection: Redis) -> None:  # type: ignore[no-untyped-def]
    """The note's ``checkIntegrationHealth``: ``return jsonResponse(res, 200, healthStatus)``; the
    periodic check stays one job per integration: ``jobId: `health-${integration._id}` // Prevent
    duplicates``."""
    _settings, api = note
    created = register(api, "http://127.0.0.1:9/token")
    before = scheduled(connection)[health_job_id(created["id"])]
    response = api.post(f"/api/v1/integrations/{created['id']}/health-check")
    assert response.status_code == 200
    assert response.get_json() == {"integration_id": created["id"], "status": "active", "action": "none"}
    assert scheduled(connection)[health_job_id(created["id"])] == before  # not pushed back, not doubled
    assert [j for j in scheduled(connection) if "health" in j] == [health_job_id(created["id"])]
    assert api.post("/api/v1/integrations/int_0000000000000000/health-check").status_code == 404


def test_hand_enqueued_oauth_jobs_run_once_and_keep_one_chain(note, connection: Redis) -> None:  # type: ignore[no-untyped-def]
    """``jobId: `refresh-${integrationId}` // Prevent duplicates``: whatever starts a refresh or a
    health check, each integration keeps exactly one refresh chain and one health-check chain."""
    settings, api = note
    with serve(issue_tokens) as provider:
        created = register(api, provider.url + "/token")
        Job.fetch(health_job_id(created["id"]), connection=connection).delete()  # the chain was lost
        for task in ("oauth.health_check", "oauth.refresh"):
            posted = api.post(
                "/api/v1/jobs", json={"task": task, "kwargs": {"integration_id": created["id"]}}
            )
            assert posted.status_code == 201
        run_worker(connection)
        chains = sorted(j for j in scheduled(connection) if j.startswith("oauth-"))
        assert chains == sorted([refresh_job_id(created["id"]), health_job_id(created["id"])])
        assert api.get(f"/api/v1/integrations/{created['id']}").get_json()["refreshes"] == 1
        assert run_refresh(connection, settings, created["id"])["status"] == "active"  # inline: same chain
        assert sorted(j for j in scheduled(connection) if j.startswith("oauth-")) == chains


def test_the_owner_is_told_with_the_notes_event_name(note, connection: Redis) -> None:  # type: ignore[no-untyped-def]
    """The note: ``await this.notifyTenantOwner(tenantId, integrationId, 'access_revoked');``"""
    settings, api = note
    with serve(lambda request, n: (200, {})) as hooks, \
            serve(lambda request, n: (400, {"error": "invalid_grant"})) as provider:  # fmt: skip
        body = {"url": hooks.url + "/hook", "events": ["access_revoked"]}
        assert api.post("/api/v1/webhooks/endpoints", json=body).status_code == 201
        created = register(api, provider.url + "/token")
        assert api.post(refresh_url(created), query_string={"wait": "true"}).get_json()["status"] == "revoked"
        check = api.post(f"/api/v1/integrations/{created['id']}/health-check").get_json()
        assert check["action"] == "owner notified"
        drive(connection, settings, lambda: len(hooks.requests) == 1, timeout=10)
    event = hooks.requests[0].json()
    assert event["type"] == "access_revoked" and event["payload"]["integration_id"] == created["id"]
