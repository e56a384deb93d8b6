"""Code-declared schedules sync idempotently with stable ids; removed declarations disappear."""

from __future__ import annotations

from datetime import UTC, datetime

from redis import Redis

from jobs.registry import DeclaredSchedule, TaskRegistry, registry
from jobs.settings import Settings, load_settings
from scheduler import declared
from scheduler.store import TaskStore
from tests.conftest import TEST_ENV


def tasks_with(*schedules: DeclaredSchedule) -> TaskRegistry:
    tasks = TaskRegistry()
    for spec in registry:
        tasks.add(spec)
    for schedule in schedules:
        tasks.declare(schedule)
    return tasks


SWEEP = DeclaredSchedule("webhook-retry-sweep", "system.echo", "EVERY_5_MINUTES", {"sweep": True})
BOOT = DeclaredSchedule("warm-cache", "system.echo", "@after 5s")


def test_sync_is_idempotent_and_removes_stale(connection: Redis, settings: Settings) -> None:
    now = datetime.now(UTC)
    store = TaskStore(connection)
    first = declared.sync(connection, tasks_with(SWEEP, BOOT), settings, now)
    assert first is not None and sorted(first.created) == ["warm-cache", "webhook-retry-sweep"]
    again = declared.sync(connection, tasks_with(SWEEP, BOOT), settings, now)
    assert again is not None and not (again.created or again.updated or again.removed)
    assert store.count() == 2
    sweep = store.get("declared-webhook-retry-sweep")
    assert sweep is not None and sweep.definition.recurring and sweep.definition.source == "declared"
    boot = store.get("declared-warm-cache")
    assert boot is not None and not boot.definition.recurring
    assert boot.next_run == int(now.timestamp() * 1000) + 5000
    changed = DeclaredSchedule("webhook-retry-sweep", "system.echo", "EVERY_10_MINUTES", {"sweep": True})
    third = declared.sync(connection, tasks_with(changed), settings, now)
    assert third is not None and third.updated == ["webhook-retry-sweep"] and third.removed == ["warm-cache"]
    assert store.get("declared-webhook-retry-sweep").definition.schedule == "EVERY_10_MINUTES"  # type: ignore[union-attr]
    assert store.count() == 1


def test_environment_overrides_and_turns_off(connection: Redis, redis_url: str) -> None:
    now = datetime.now(UTC)
    env = {
        **TEST_ENV,
        "REDIS_URL": redis_url,
        "SCHEDULE_WEBHOOK_RETRY_SWEEP": "*/10 * * * *",
        "SCHEDULE_WARM_CACHE": "off",
    }
    declared.sync(connection, tasks_with(SWEEP, BOOT), load_settings(env), now)
    store = TaskStore(connection)
    assert store.get("declared-webhook-retry-sweep").definition.schedule == "*/10 * * * *"  # type: ignore[union-attr]
    assert store.get("declared-warm-cache") is None


def test_a_concurrent_sync_is_skipped_not_doubled(connection: Redis, settings: Settings) -> None:
    lock = connection.lock("taskyard:sched:sync-lock", timeout=5)
    assert lock.acquire(blocking=False)
    try:
        assert declared.sync(connection, tasks_with(SWEEP), settings, datetime.now(UTC)) is None
    finally:
        lock.release()
    assert TaskStore(connection).count() == 0


def test_bad_declaration_is_skipped(connection: Redis, settings: Settings) -> None:
    broken = DeclaredSchedule("broken", "system.echo", "61 * * * *")
    report = declared.sync(connection, tasks_with(broken, SWEEP), settings, datetime.now(UTC))
    assert report is not None and report.skipped == ["broken"] and report.created == ["webhook-retry-sweep"]


def test_dotted_names_make_valid_job_ids(connection: Redis, settings: Settings) -> None:
    from scheduler.engine import Engine

    dotted = DeclaredSchedule("reports.nightly-run", "system.echo", "@after 0s")
    declared.sync(connection, tasks_with(dotted), settings, datetime.now(UTC))
    assert TaskStore(connection).get("declared-reports-nightly-run") is not None
    assert Engine(connection, settings).fire_due() == 1
