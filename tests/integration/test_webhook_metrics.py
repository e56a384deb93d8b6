"""/metrics shows webhook deliveries by outcome and the delivery log's size, so both can be alerted on."""

from __future__ import annotations

from redis import Redis

from jobs.builtin.maintenance import run_cleanup_logs
from jobs.handler_context import use_settings
from jobs.settings import load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient
from tests.drive import drive
from tests.integration.test_metrics import scrape
from tests.receivers import fail_then_succeed, serve
from web import create_app


def test_deliveries_by_outcome_and_the_delivery_log_size(redis_url: str, connection: Redis) -> None:
    """The task-scheduling design note: "Database Metrics: Track webhook log table growth" and "Error
    Rates: Alert on high task failure rates", for the webhook retry system's "audit trail of all
    delivery attempts"."""
    settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
                              "WEBHOOK_RETRY_SCHEDULE": "0"})  # fmt: skip
    api = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
    before = scrape(api)
    for outcome in ("delivered", "retried", "failed"):
        assert before[("taskyard_webhook_attempts_total", (("outcome", outcome),))] == 0
    assert before[("taskyard_webhook_deliveries_logged", (("status", "delivered"),))] == 0
    with use_settings(settings), serve(fail_then_succeed(0)) as ok, serve(fail_then_succeed(9)) as down:
        for receiver, event in ((ok, "order.created"), (down, "order.failed")):
            body = {"url": receiver.url + "/hook", "events": [event]}
            assert api.post("/api/v1/webhooks/endpoints", json=body).status_code == 201
        ids = [api.post("/api/v1/events", json={"type": event, "payload": {}}).get_json()["deliveries"][0]["id"]
               for event in ("order.created", "order.failed")]  # fmt: skip

        def settled() -> bool:
            statuses = {api.get(f"/api/v1/webhooks/deliveries/{i}").get_json()["status"] for i in ids}
            return statuses == {"delivered", "failed"}

        drive(connection, settings, settled)
    after = scrape(api)
    assert after[("taskyard_webhook_attempts_total", (("outcome", "delivered"),))] == 1
    assert after[("taskyard_webhook_attempts_total", (("outcome", "retried"),))] == 1
    assert after[("taskyard_webhook_attempts_total", (("outcome", "failed"),))] == 1
    assert after[("taskyard_webhook_deliveries_logged", (("status", "delivered"),))] == 1
    assert after[("taskyard_webhook_deliveries_logged", (("status", "failed"),))] == 1
    assert after[("taskyard_dead_letters", (("kind", "webhook_deliveries"),))] == 1
    # the log cleanup shrinks the log (everything is older than 0 days a moment later)
    run_cleanup_logs(connection, settings, 0, False, 2_000_000_000)
    cleaned = scrape(api)
    assert sum(v for (name, _), v in cleaned.items() if name == "taskyard_webhook_deliveries_logged") == 0
    assert cleaned[("taskyard_webhook_attempts_total", (("outcome", "delivered"),))] == 1  # counters stay
