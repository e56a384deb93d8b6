"""Built-in maintenance jobs, each with its schedule declared in code beside the handler.

- ``maintenance.cleanup_idempotency_keys`` (hourly): Idempotency-Key records are written with a Redis
  TTL (``IDEMPOTENCY_TTL``; 60 s while in flight), so Redis itself removes expired ones. This job only
  deletes records that somehow lost their TTL, and reports how many it scanned.
- ``maintenance.purge_expired_tokens`` (hourly) and ``maintenance.purge_revoked_tokens`` (daily at 3 AM,
  keeping 90 days of revoked tokens for audit).
- ``maintenance.collect_health_metrics`` (every 5 minutes): a sample into the health time series.
- ``maintenance.cleanup_logs`` (``olderThan`` days, ``dryRun``): scheduler execution history, finished
  and failed job results, and webhook delivery logs, a batch with progress.
- ``maintenance.database_stats`` (``detailed``): Redis statistics; ``detailed`` adds per-prefix key counts.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry
from rq.utils import as_text

from jobs import keys
from jobs.builtin.webhooks import run_cleanup as cleanup_deliveries
from jobs.handler_context import job_connection, job_settings
from jobs.maintenance import health_metrics
from jobs.maintenance.token_purge import purge_tokens
from jobs.registry import registry as task_registry
from jobs.registry import task
from jobs.resilience.batch import run_batch
from jobs.retry import NO_RETRY
from jobs.settings import Settings

DAY = 86400
SCAN_COUNT = 1000


@task("maintenance.cleanup_idempotency_keys", retry=NO_RETRY, schedule="EVERY_HOUR",
      description="Remove Idempotency-Key records without a TTL (expired ones go by Redis TTL).")  # fmt: skip
def cleanup_idempotency_keys() -> dict[str, int]:
    connection = job_connection()
    scanned = removed = 0
    for key in connection.scan_iter(match=keys.PREFIX + "idem:*", count=SCAN_COUNT):
        scanned += 1
        if connection.ttl(key) == -1:
            connection.delete(key)
            removed += 1
    return {"scanned": scanned, "removed_without_ttl": removed}


@task("maintenance.purge_expired_tokens", retry=NO_RETRY, schedule="EVERY_HOUR",
      description="Remove API tokens past their expiry.")  # fmt: skip
def purge_expired_tokens() -> dict[str, int]:
    removed = purge_tokens(job_connection(), datetime.now(UTC), expired=True, revoked_retention=None)
    return {"removed": removed}


@task("maintenance.purge_revoked_tokens", retry=NO_RETRY, schedule="EVERY_DAY_AT_3AM",
      description="Remove API tokens revoked more than 90 days ago.")  # fmt: skip
def purge_revoked_tokens() -> dict[str, int]:
    return {"removed": purge_tokens(job_connection(), datetime.now(UTC), expired=False)}


@task("maintenance.collect_health_metrics", retry=NO_RETRY, schedule="EVERY_5_MINUTES",
      description="Sample Redis memory, keys, ops and queue depths into the health time series.")  # fmt: skip
def collect_health_metrics() -> dict[str, Any]:
    connection, settings = job_connection(), job_settings()
    point = health_metrics.sample(connection, settings)
    health_metrics.record(connection, settings, point)
    return point


def _old_job_ids(connection: Redis, settings: Settings) -> list[str]:
    ids: list[str] = []
    for queue in settings.worker.queues:
        for registry in (
            FinishedJobRegistry(queue, connection=connection),
            FailedJobRegistry(queue, connection=connection),
        ):
            ids.extend(registry.get_job_ids())
    return ids


def run_cleanup_logs(
    connection: Redis, settings: Settings, older_than: float, dry_run: bool, now: float
) -> dict[str, Any]:
    """Remove what is older than ``older_than`` days; ``dry_run`` only counts."""
    cutoff = now - older_than * DAY
    history = 0
    for order_key in connection.scan_iter(match=keys.PREFIX + "sched:execution-order:*", count=SCAN_COUNT):
        task_id = as_text(order_key).rsplit(":", 1)[1]
        old = [
            e.decode() if isinstance(e, bytes) else str(e)
            for e in connection.zrangebyscore(order_key, "-inf", int(cutoff * 1000))
        ]
        history += len(old)
        if old and not dry_run:
            connection.hdel(keys.sched_executions(task_id), *old)
            connection.zrem(order_key, *old)

    def expire_job(job_id: str) -> bool:
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            return False
        ended = job.ended_at
        if ended is None or (ended if ended.tzinfo else ended.replace(tzinfo=UTC)).timestamp() > cutoff:
            return False
        if not dry_run:
            job.delete()
        return True

    jobs = run_batch("cleanup-logs: job results", _old_job_ids(connection, settings), expire_job)
    deliveries = cleanup_deliveries(connection, older_than, dry_run, now)
    return {
        "older_than_days": older_than,
        "dry_run": dry_run,
        "execution_history_removed": history,
        "job_results_removed": sum(1 for removed in jobs.results if removed),
        "job_results_failed": jobs.failed,
        "webhook_deliveries_removed": deliveries["deliveries_removed"],
    }


@task("maintenance.cleanup_logs", retry=NO_RETRY, timeout=1800,
      schedule="0 3 * * *", params={"olderThan": 30, "dryRun": False},  # the daily-cleanup defaults
      description="Remove execution history, job results and delivery logs older than olderThan days.")  # fmt: skip
def cleanup_logs(olderThan: float = 30, dryRun: bool = False) -> dict[str, Any]:
    """The ``cleanup-logs`` built-in, with the scheduled-task API's camelCase parameter names."""
    if float(olderThan) < 0:
        raise ValueError("olderThan is a number of days, at least 0")
    return run_cleanup_logs(
        job_connection(), job_settings(), float(olderThan), bool(dryRun), datetime.now(UTC).timestamp()
    )


task_registry.alias("cleanup-logs", "maintenance.cleanup_logs")  # the scheduled-tasks note's handler name


def run_database_stats(connection: Redis, detailed: bool) -> dict[str, Any]:
    info = connection.info()
    stats: dict[str, Any] = {
        "redis_version": info.get("redis_version"),
        "used_memory": info.get("used_memory"),
        "used_memory_human": info.get("used_memory_human"),
        "keys": connection.dbsize(),
        "connected_clients": info.get("connected_clients"),
        "ops_per_sec": info.get("instantaneous_ops_per_sec"),
        "total_commands_processed": info.get("total_commands_processed"),
        "uptime_seconds": info.get("uptime_in_seconds"),
    }
    if detailed:
        prefixes: Counter[str] = Counter()
        for key in connection.scan_iter(count=SCAN_COUNT):
            parts = as_text(key).split(":")
            prefixes[":".join(parts[:2]) if len(parts) > 1 else parts[0]] += 1
        stats["keys_by_prefix"] = dict(sorted(prefixes.items()))
    return stats


@task(
    "maintenance.database_stats",
    retry=NO_RETRY,
    description="Redis statistics; detailed adds per-prefix key counts.",
)
def database_stats(detailed: bool = False) -> dict[str, Any]:
    """The ``database-stats`` built-in: Redis statistics for a scheduled task or a manual run."""
    return run_database_stats(job_connection(), bool(detailed))
