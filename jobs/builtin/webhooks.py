"""Built-in webhook jobs: deliver one attempt, sweep for stranded retries, clean up old delivery logs.

``webhooks.deliver`` is enqueued by ``POST /api/v1/events`` (one job per subscribed endpoint) and by
its own failures (the retry schedule, see :mod:`jobs.webhooks.delivery`). ``webhooks.retry_sweep``
(every ``WEBHOOK_RETRY_INTERVAL_MINUTES``, by default ``EVERY_5_MINUTES``) re-enqueues any unfinished
delivery whose next attempt is due but whose owning job is gone or no longer waiting, so a lost
schedule can't strand a delivery. ``webhooks.cleanup_logs`` (daily at midnight) removes finished
deliveries and their attempt logs older than ``WEBHOOK_CLEANUP_RETENTION_DAYS``.
"""

from __future__ import annotations

import time
from typing import Any

from redis import Redis
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from jobs.handler_context import job_connection, job_settings
from jobs.registry import task
from jobs.retry import NO_RETRY
from jobs.settings import Settings
from jobs.webhooks import delivery as webhook_delivery
from jobs.webhooks.store import FINISHED, WebhookStore

DAY = 86400


@task(
    webhook_delivery.DELIVER_TASK,
    retry=NO_RETRY,
    timeout=120,
    description="POST one webhook delivery attempt; schedules its own retries (WEBHOOK_RETRY_SCHEDULE).",
)
def deliver(delivery_id: str) -> dict[str, Any]:
    """One attempt of a delivery; see :func:`jobs.webhooks.delivery.attempt`."""
    job = get_current_job()
    return webhook_delivery.attempt(job_connection(), job_settings(), delivery_id, job.id if job else None)


def _waiting(connection: Redis, job_id: str | None) -> bool:
    """Is this job still going to run (queued in its queue, scheduled in the registry, or running)?"""
    if job_id is None:
        return False
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    status = job.get_status()
    if status == JobStatus.STARTED:
        return True
    if status == JobStatus.SCHEDULED:
        return (
            connection.zscore(ScheduledJobRegistry(job.origin, connection=connection).key, job.id) is not None
        )
    if status == JobStatus.QUEUED:
        return connection.lpos(Queue(job.origin, connection=connection).key, job.id) is not None
    return False


def run_retry_sweep(connection: Redis, settings: Settings, now: float | None = None) -> dict[str, int]:
    """Re-enqueue due, unfinished deliveries whose job is not waiting. Returns counts."""
    now = time.time() if now is None else now
    store = WebhookStore(connection)
    checked = requeued = 0
    for delivery_id in store.due_for_retry(now):
        checked += 1
        delivery = store.get_delivery(delivery_id)
        if delivery is None or delivery.status in FINISHED or _waiting(connection, delivery.job_id):
            continue
        lock = store.lock(delivery_id, timeout=30, wait=0)
        if not lock.acquire():
            continue  # an attempt is running right now
        try:
            current = store.get_delivery(delivery_id)
            if current is not None and current.job_id == delivery.job_id and current.status not in FINISHED:
                webhook_delivery.schedule_attempt(connection, settings, current, 0, store)
                requeued += 1
        finally:
            lock.release()
    return {"checked": checked, "requeued": requeued}


@task(
    "webhooks.retry_sweep",
    retry=NO_RETRY,
    schedule="EVERY_5_MINUTES",
    description="Re-enqueue webhook deliveries whose retry is due but not scheduled.",
)
def retry_sweep() -> dict[str, int]:
    """The stranded-retry sweep; WEBHOOK_RETRY_INTERVAL_MINUTES sets how often it runs."""
    return run_retry_sweep(job_connection(), job_settings())


def run_cleanup(
    connection: Redis, older_than_days: float, dry_run: bool = False, now: float | None = None
) -> dict[str, Any]:
    """Remove finished deliveries (and their attempt logs) created more than ``older_than_days`` ago.

    Unfinished deliveries are kept whatever their age. ``dry_run`` only counts.
    """
    now = time.time() if now is None else now
    store = WebhookStore(connection)
    cutoff = now - older_than_days * DAY
    removed = kept = 0
    for delivery_id in store.created_before(cutoff, limit=1_000_000):
        delivery = store.get_delivery(delivery_id)
        if delivery is not None and delivery.status not in FINISHED:
            kept += 1
            continue
        if delivery is not None and not dry_run:
            store.delete_delivery(delivery)
        removed += 1
    return {"deliveries_removed": removed, "unfinished_kept": kept, "dry_run": dry_run}


@task(
    "webhooks.cleanup_logs",
    retry=NO_RETRY,
    schedule="EVERY_DAY_AT_MIDNIGHT",
    description="Remove finished webhook deliveries older than WEBHOOK_CLEANUP_RETENTION_DAYS.",
)
def cleanup_logs(older_than_days: float | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Old delivery logs removed; the retention is WEBHOOK_CLEANUP_RETENTION_DAYS unless ``older_than_days`` is given."""
    settings = job_settings()
    days = settings.webhooks.cleanup_retention_days if older_than_days is None else float(older_than_days)
    if days < 0:
        raise ValueError("older_than_days cannot be negative")
    return run_cleanup(job_connection(), days, bool(dry_run))
