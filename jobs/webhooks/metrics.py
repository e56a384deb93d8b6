"""Webhook observability: delivery attempts by outcome, and the size of the delivery log.

The task-scheduling design note asks to "Track webhook log table growth" and to "Alert on high task
failure rates". Two figures serve that, read by ``GET /metrics`` (:mod:`web.monitoring.webhook_metrics`):

- a counter of delivery attempts by outcome: ``delivered``, ``retried`` (failed, another attempt is
  scheduled) and ``failed`` (failed for good: the delivery is a dead letter), counted in Redis by the
  worker that made the attempt, so every web process reports the same totals;
- the delivery log's size: deliveries kept (by status) and their attempt-log entries, read at scrape
  time. It shrinks when the daily log cleanup removes what is older than WEBHOOK_CLEANUP_RETENTION_DAYS.
"""

from __future__ import annotations

from redis import Redis
from rq.utils import as_text

from jobs import keys
from jobs.webhooks.store import STATUSES

OUTCOMES = ("delivered", "retried", "failed")


def count_attempt(connection: Redis, outcome: str) -> None:
    """Count one attempt that ended in ``outcome`` (one of :data:`OUTCOMES`)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown webhook outcome {outcome!r}")
    connection.hincrby(keys.METRICS_WEBHOOKS, outcome, 1)


def read_outcomes(connection: Redis) -> dict[str, int]:
    """Attempts so far by outcome (every outcome present, 0 when none yet)."""
    raw = {as_text(k): int(v) for k, v in connection.hgetall(keys.METRICS_WEBHOOKS).items()}
    return {outcome: raw.get(outcome, 0) for outcome in OUTCOMES}


def log_size(connection: Redis) -> dict[str, int]:
    """Deliveries kept in the log, by status, in one round trip."""
    with connection.pipeline(transaction=False) as pipe:
        for status in STATUSES:
            pipe.zcard(keys.webhook_by_status(status))
        counts = pipe.execute()
    return dict(zip(STATUSES, (int(c) for c in counts), strict=True))
