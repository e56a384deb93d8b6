"""GET /metrics: Prometheus text format, from a custom prometheus_client collector reading Redis.

Job counters and durations are counted in Redis by whichever process saw the event (see
:mod:`jobs.metrics` for why); queue depth, dead letters, workers, scheduler lateness and breaker states
are read at scrape time through the read model. A collector (rather than prometheus_client's Counter
objects) turns those Redis figures into metric families on every scrape, in a registry of the app's
own, so every web process answers with the same totals.

Access: a bearer token (any role's API token, or ``METRICS_TOKEN`` for a scraper that should hold
nothing else), or a client address in ``METRICS_ALLOW_IPS``. Anything else is a 401.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from redis import Redis

from jobs.metrics import read_counters, read_durations
from jobs.resilience.breaker import CLOSED, HALF_OPEN, OPEN, all_breakers
from jobs.settings import Settings
from jobs.webhooks.store import WebhookStore
from web.errors import ApiError
from web.extension import state
from web.monitoring.webhook_metrics import webhook_families
from web.read_model.liveness import alive_schedulers, alive_workers
from web.read_model.queries import queue_counts
from web.security.auth import bearer_secret, check_secret

EXTENSION = "taskyard_metrics"
BREAKER_STATES = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}
COUNTERS = {
    "enqueued": ("taskyard_jobs_enqueued", "Jobs put on a queue (or scheduled) through Taskyard"),
    "started": ("taskyard_jobs_started", "Job attempts started by a worker"),
    "finished": ("taskyard_jobs_finished", "Jobs that finished successfully"),
    "failed": ("taskyard_jobs_failed", "Jobs that failed for good (dead letters)"),
    "retried": ("taskyard_job_retries", "Failed attempts that were scheduled for a retry"),
    "stopped": ("taskyard_jobs_stopped", "Jobs stopped while running"),
}

bp = Blueprint("metrics", __name__)


class TaskyardCollector(Collector):
    """Every Taskyard metric, read from Redis at scrape time."""

    def __init__(self, connection: Redis, settings: Settings) -> None:
        self.connection = connection
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        yield from self._job_counters()
        yield self._durations()
        yield from self._queues()
        yield from self._liveness()
        yield self._breakers()
        yield from webhook_families(self.connection)

    def _job_counters(self) -> Iterator[Metric]:
        families = {
            event: CounterMetricFamily(name, doc, labels=["task", "queue"])
            for event, (name, doc) in COUNTERS.items()
        }
        for (event, task, queue), value in sorted(read_counters(self.connection).items()):
            if event in families:
                families[event].add_metric([task, queue], value)
        yield from families.values()

    def _durations(self) -> Metric:
        family = HistogramMetricFamily(
            "taskyard_job_duration_seconds", "Run time of job attempts", labels=["task", "queue"]
        )
        for (task, queue), histogram in sorted(read_durations(self.connection).items()):
            family.add_metric([task, queue], histogram.buckets, histogram.sum)
        return family

    def _queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("taskyard_queue_depth", "Jobs waiting on a queue", labels=["queue"])
        jobs = GaugeMetricFamily("taskyard_queue_jobs", "Jobs per queue and state", labels=["queue", "state"])
        dead = GaugeMetricFamily(
            "taskyard_dead_letters",
            "Failed jobs kept for replay, and failed webhook deliveries",
            labels=["kind"],
        )
        failed = 0
        for name in self.settings.worker.queues:
            counts = queue_counts(self.connection, name)
            depth.add_metric([name], counts["queued"])
            for key in ("queued", "started", "finished", "failed", "deferred", "scheduled"):
                jobs.add_metric([name, key], counts[key])
            failed += counts["failed"]
        dead.add_metric(["jobs"], failed)
        _, failed_deliveries = WebhookStore(self.connection).list_deliveries(None, "failed", 1, 1)
        dead.add_metric(["webhook_deliveries"], failed_deliveries)
        yield from (depth, jobs, dead)

    def _liveness(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        workers = GaugeMetricFamily("taskyard_workers", "Workers with a recent heartbeat")
        workers.add_metric([], len(alive_workers(self.connection, self.settings, now)))
        leader = GaugeMetricFamily(
            "taskyard_scheduler_leader",
            "1 for the scheduler that leads, 0 for followers",
            labels=["scheduler"],
        )
        lateness = GaugeMetricFamily(
            "taskyard_scheduler_lateness_seconds",
            "How late the scheduler fired scheduled tasks (recent firings), by statistic",
            labels=["scheduler", "stat"],
        )
        for beat in alive_schedulers(self.connection, self.settings, now):
            leader.add_metric([beat["name"]], 1 if beat["leader"] else 0)
            figures = beat.get("lateness_ms")
            if isinstance(figures, dict):
                for stat, value in sorted(figures.items()):
                    if isinstance(value, int | float):
                        lateness.add_metric([beat["name"], stat], value / 1000)
        yield from (workers, leader, lateness)

    def _breakers(self) -> Metric:
        family = GaugeMetricFamily(
            "taskyard_breaker_state",
            "Circuit breaker per external host: 0 closed, 1 half-open, 2 open",
            labels=["breaker"],
        )
        for decision in all_breakers(self.connection, self.settings):
            family.add_metric([decision.name], BREAKER_STATES.get(decision.state, 0))
        return family


def _allowed() -> bool:
    ext = state()
    address = request.remote_addr
    if address and ext.settings.monitoring.metrics_allow_ips:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:  # a unix socket peer, for instance
            ip = None
        if ip is not None and any(
            ip in ipaddress.ip_network(n) for n in ext.settings.monitoring.metrics_allow_ips
        ):
            return True
    secret = bearer_secret()
    if secret is None:
        return False
    if ext.settings.monitoring.metrics_token and hmac.compare_digest(
        secret.encode(), ext.settings.monitoring.metrics_token.encode()
    ):
        return True
    return check_secret(secret) is not None


@bp.get("/metrics")
def metrics() -> Response:
    if not _allowed():
        raise ApiError(
            401, "unauthorized", "send 'Authorization: Bearer <token>' (an API token or METRICS_TOKEN)"
        )
    registry: CollectorRegistry = current_app.extensions[EXTENSION]
    # the scraper's Accept header picks the format (text 0.0.4 by default, OpenMetrics if asked)
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encoder(registry), content_type=content_type)


def init_app(app: Flask, settings: Settings, connection: Redis) -> None:
    """A metrics registry of this app's own (never prometheus_client's global one), and /metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TaskyardCollector(connection, settings))
    app.extensions[EXTENSION] = registry
    app.register_blueprint(bp)
