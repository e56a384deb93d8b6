"""The built-in jobs' code-declared schedules reach the scheduler store and run now from its API."""

from __future__ import annotations

from datetime import UTC, datetime

from redis import Redis

from jobs.handler_context import use_settings
from jobs.maintenance import health_metrics
from jobs.registry import registry
from jobs.settings import Settings, load_settings
from scheduler import declared
from tests.conftest import ADMIN_TOKEN, BUILTIN_SCHEDULES_OFF, TEST_ENV, ApiClient, run_worker
from web import create_app


def synced(redis_url: str, connection: Redis) -> tuple[Settings, ApiClient, dict[str, dict]]:
    env = {name: value for name, value in TEST_ENV.items() if name not in BUILTIN_SCHEDULES_OFF}
    settings = load_settings({**env, "REDIS_URL": redis_url, "WEBHOOK_RETRY_INTERVAL_MINUTES": "10"})
    declared.sync(connection, registry, settings, datetime.now(UTC))
    api = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
    listed = api.get("/admin/scheduler?per_page=100").get_json()["items"]
    return settings, api, {t["name"]: t for t in listed}


def test_declared_builtin_schedules_sync_with_their_times_and_env_overrides(redis_url, connection) -> None:
    _settings, _api, by_name = synced(redis_url, connection)
    assert by_name["webhooks.retry_sweep"]["schedule"] == "0 */10 * * * *"  # WEBHOOK_RETRY_INTERVAL_MINUTES
    assert by_name["webhooks.cleanup_logs"]["schedule"] == "EVERY_DAY_AT_MIDNIGHT"
    assert by_name["maintenance.purge_expired_tokens"]["schedule"] == "EVERY_HOUR"
    assert by_name["maintenance.cleanup_idempotency_keys"]["schedule"] == "EVERY_HOUR"
    assert by_name["maintenance.purge_revoked_tokens"]["schedule"] == "EVERY_DAY_AT_3AM"
    assert by_name["maintenance.collect_health_metrics"]["schedule"] == "EVERY_5_MINUTES"
    cleanup = by_name["maintenance.cleanup_logs"]
    assert (cleanup["schedule"], cleanup["params"]) == ("0 3 * * *", {"olderThan": 30, "dryRun": False})


def test_a_declared_builtin_schedule_runs_now_from_the_scheduler_api(redis_url, connection) -> None:
    settings, api, by_name = synced(redis_url, connection)
    task = by_name["maintenance.collect_health_metrics"]
    response = api.post(f"/admin/scheduler/{task['id']}/actions/run")
    assert response.status_code == 202, response.get_json()
    with use_settings(settings):
        run_worker(connection)
    [point] = health_metrics.recent(connection, 10)
    assert point["keys"] > 0
