"""The webhook metric families of ``GET /metrics`` (figures from :mod:`jobs.webhooks.metrics`)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from redis import Redis

from jobs.webhooks.metrics import log_size, read_outcomes


def webhook_families(connection: Redis) -> Iterator[Metric]:
    """``taskyard_webhook_attempts_total{outcome}`` and ``taskyard_webhook_deliveries_logged{status}``."""
    attempts = CounterMetricFamily(
        "taskyard_webhook_attempts",
        "Webhook delivery attempts by outcome: delivered, retried (another attempt follows), failed (for good)",
        labels=["outcome"],
    )
    for outcome, count in read_outcomes(connection).items():
        attempts.add_metric([outcome], count)
    logged = GaugeMetricFamily(
        "taskyard_webhook_deliveries_logged",
        "Webhook deliveries kept in the delivery log, by status (grows until the log cleanup removes old ones)",
        labels=["status"],
    )
    for status, count in log_size(connection).items():
        logged.add_metric([status], count)
    yield from (attempts, logged)
