"""Responses of the built-in jobs' endpoints (webhooks, breakers, integrations, health metrics) match
the OpenAPI document."""

from __future__ import annotations

from redis import Redis

from jobs.handler_context import use_settings
from jobs.resilience.breaker import Breaker
from jobs.settings import load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient, run_worker
from tests.integration.test_openapi import _validate
from web import create_app


def test_builtin_job_endpoints_match_their_schemas(redis_url: str, connection: Redis) -> None:
    settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"})
    api = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
    doc = api.get("/api/v1/openapi.json").get_json()
    endpoint = api.post("/api/v1/webhooks/endpoints", json={"url": "http://127.0.0.1:9/x", "secret": "s" * 16,
                                                          "events": ["*"]})  # fmt: skip
    _validate(doc, "/api/v1/webhooks/endpoints", "post", endpoint)
    _validate(doc, "/api/v1/webhooks/endpoints", "get", api.get("/api/v1/webhooks/endpoints"))
    one = "/api/v1/webhooks/endpoints/{endpoint_id}"
    _validate(doc, one, "get", api.get(f"/api/v1/webhooks/endpoints/{endpoint.get_json()['id']}"))
    _validate(doc, one, "get", api.get("/api/v1/webhooks/endpoints/nope"))
    event = api.post("/api/v1/events", json={"type": "ping", "payload": {"a": 1}})
    _validate(doc, "/api/v1/events", "post", event)
    with use_settings(settings):
        run_worker(connection)  # the receiver does not exist: the attempt fails and a retry is scheduled
    _validate(doc, "/api/v1/webhooks/deliveries", "get", api.get("/api/v1/webhooks/deliveries"))
    _validate(doc, "/api/v1/webhooks/deliveries", "get", api.get("/api/v1/webhooks/deliveries?status=x"))
    delivery_id = event.get_json()["deliveries"][0]["id"]
    path = "/api/v1/webhooks/deliveries/{delivery_id}"
    _validate(doc, path, "get", api.get(f"/api/v1/webhooks/deliveries/{delivery_id}"))
    _validate(doc, path + "/retry", "post", api.post(f"/api/v1/webhooks/deliveries/{delivery_id}/retry"))
    _validate(doc, "/api/v1/webhooks/retry-all", "post", api.post("/api/v1/webhooks/retry-all"))
    Breaker(connection, settings, "example.com:443").failure()
    _validate(doc, "/api/v1/breakers", "get", api.get("/api/v1/breakers"))
    _validate(
        doc, "/api/v1/breakers/{name}/reset", "post", api.post("/api/v1/breakers/example.com:443/reset")
    )
    integration = api.post("/api/v1/integrations", json={
        "tenant_id": "t1", "provider": "acme", "token_url": "http://127.0.0.1:9/token", "client_id": "c",
        "client_secret": "cs", "access_token": "at", "refresh_token": "rt", "expires_in": 3600,
        "owner_email": "o@example.com"})  # fmt: skip
    _validate(doc, "/api/v1/integrations", "post", integration)
    _validate(doc, "/api/v1/integrations", "get", api.get("/api/v1/integrations?tenant_id=t1"))
    iid = integration.get_json()["id"]
    _validate(doc, "/api/v1/integrations/{integration_id}", "get", api.get(f"/api/v1/integrations/{iid}"))
    refresh = "/api/v1/oauth/tenants/{tenant_id}/integrations/{integration_id}/refresh"
    _validate(doc, refresh, "post", api.post(f"/api/v1/oauth/tenants/t1/integrations/{iid}/refresh"))
    _validate(
        doc, "/api/v1/integrations/{integration_id}", "delete", api.delete(f"/api/v1/integrations/{iid}")
    )
    _validate(doc, "/api/v1/health/metrics", "get", api.get("/api/v1/health/metrics"))
    _validate(doc, one, "delete", api.delete(f"/api/v1/webhooks/endpoints/{endpoint.get_json()['id']}"))
