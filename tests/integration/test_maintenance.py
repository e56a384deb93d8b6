"""Maintenance and email jobs, run through REST enqueue and a real worker, against real Redis and SMTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue

from jobs import keys
from jobs.handler_context import use_settings
from jobs.registry import registry
from jobs.resilience.batch import run_batch
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient, run_worker
from tests.smtp import smtp_server
from web import create_app


def run(api: ApiClient, connection: Redis, settings: Settings, task: str, **kwargs: object) -> dict:
    created = api.post("/api/v1/jobs", json={"task": task, "kwargs": kwargs})
    assert created.status_code == 201, created.get_json()
    with use_settings(settings):
        run_worker(connection)
    return api.get(created.get_json()["url"]).get_json()


def test_builtin_schedules_are_declared_in_code():
    declared = {d.name: d.schedule for d in registry.declared_schedules()}
    assert declared["webhooks.retry_sweep"] == "EVERY_5_MINUTES"
    assert declared["webhooks.cleanup_logs"] == "EVERY_DAY_AT_MIDNIGHT"
    assert declared["maintenance.cleanup_idempotency_keys"] == "EVERY_HOUR"
    assert declared["maintenance.purge_expired_tokens"] == "EVERY_HOUR"
    assert declared["maintenance.purge_revoked_tokens"] == "EVERY_DAY_AT_3AM"
    assert declared["maintenance.collect_health_metrics"] == "EVERY_5_MINUTES"
    env = load_settings({"WEBHOOK_RETRY_INTERVAL_MINUTES": "10"}).scheduler.overrides
    assert env["SCHEDULE_WEBHOOKS_RETRY_SWEEP"] == "0 */10 * * * *"


def test_tokens_expired_hourly_and_revoked_after_90_days(api, connection, settings):
    tokens = create_app(settings, connection).extensions["taskyard"].tokens
    now = datetime.now(UTC)
    tokens.create("old", "viewer", now - timedelta(seconds=1), now - timedelta(days=1))
    tokens.create("live", "viewer", None, now)
    recent, _ = tokens.create("recent", "viewer", None, now)
    ancient, _ = tokens.create("ancient", "viewer", None, now)
    tokens.revoke(recent.id, now - timedelta(days=10))
    tokens.revoke(ancient.id, now - timedelta(days=91))
    assert run(api, connection, settings, "maintenance.purge_expired_tokens")["result"] == {"removed": 1}
    assert run(api, connection, settings, "maintenance.purge_revoked_tokens")["result"] == {"removed": 1}
    assert sorted(t.name for t in tokens.all()) == ["live", "recent"]


def test_idempotency_keys_expire_by_ttl_and_the_job_removes_any_without_one(api, connection, settings):
    api.post("/api/v1/jobs", json={"task": "system.echo"}, headers={"Idempotency-Key": "k1"})
    [stored] = list(connection.scan_iter(match=keys.PREFIX + "idem:*"))
    assert 0 < connection.ttl(stored) <= settings.web.idempotency_ttl  # Redis removes expired ones itself
    connection.set(keys.idempotency("someone", "lost-ttl"), "{}")
    result = run(api, connection, settings, "maintenance.cleanup_idempotency_keys")["result"]
    assert result == {"scanned": 2, "removed_without_ttl": 1}
    assert connection.exists(stored) == 1


def test_health_metrics_time_series_is_readable_over_the_api(api, connection, settings):
    Queue("low", connection=connection).enqueue("tests.fixtures.add", 1, 2)
    for _ in range(2):
        run(api, connection, settings, "maintenance.collect_health_metrics")
    items = api.get("/api/v1/health/metrics?limit=5").get_json()["items"]
    assert len(items) == 2 and items[0]["at"] >= items[1]["at"]
    assert items[0]["used_memory"] > 0 and items[0]["keys"] > 0 and items[0]["ops_per_sec"] is not None
    assert set(items[0]["queue_depths"]) == set(settings.worker.queues)
    assert api.get("/api/v1/health/metrics?limit=0").status_code == 400


def test_cleanup_logs_dry_run_then_removal_with_progress(api, connection, settings):
    for n in range(3):
        api.post("/api/v1/jobs", json={"task": "tests.add", "args": [n, 1]})
    run_worker(connection)
    connection.hset(keys.sched_executions("t1"), "e1", "{}")
    connection.zadd(keys.sched_execution_order("t1"), {"e1": 1000})  # 1970: old
    dry = run(api, connection, settings, "maintenance.cleanup_logs", olderThan=0, dryRun=True)
    assert dry["result"]["job_results_removed"] == 3 and dry["result"]["execution_history_removed"] == 1
    assert connection.hexists(keys.sched_executions("t1"), "e1")
    done = run(api, connection, settings, "maintenance.cleanup_logs", olderThan=0)
    assert done["result"]["job_results_removed"] >= 3 and done["result"]["dry_run"] is False
    assert done["progress"]["fraction"] == 1.0 and done["progress"]["processed"] >= 3  # via GET /jobs/<id>
    assert not connection.hexists(keys.sched_executions("t1"), "e1")
    kept = run(api, connection, settings, "maintenance.cleanup_logs", olderThan=30)
    assert kept["result"]["job_results_removed"] == 0


def test_database_stats_detailed_counts_keys_by_prefix(api, connection, settings):
    plain = run(api, connection, settings, "maintenance.database_stats")["result"]
    assert plain["keys"] > 0 and "keys_by_prefix" not in plain
    detailed = run(api, connection, settings, "maintenance.database_stats", detailed=True)["result"]
    assert detailed["keys_by_prefix"]["rq:job"] >= 1


def test_batch_counts_partial_failures():
    result = run_batch("demo", [1, 0, 2], lambda n: 10 // n)
    assert (result.processed, result.failed, result.results) == (2, 1, [10, 5])
    assert "ZeroDivisionError" in result.errors[0]["error"]


def test_email_job_sends_through_smtp_from_the_environment(redis_url, connection):
    with smtp_server() as inbox:
        settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1",
                                  "SMTP_PORT": str(inbox.port), "SMTP_FROM": "jobs@taskyard.test"})  # fmt: skip
        api = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
        job = run(
            api, connection, settings, "email.send", to="ann@example.com", subject="Your link", body="hi"
        )
    assert job["status"] == "finished" and job["result"] == {"sent": True, "email": "ann@example.com"}
    [message] = inbox.messages
    assert message["From"] == "jobs@taskyard.test" and message["Subject"] == "Your link"
    assert message.get_payload().strip() == "hi" and inbox.recipients == [["ann@example.com"]]
    assert json.dumps(job)  # the API view is plain JSON
