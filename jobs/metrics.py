"""Job metrics, counted in Redis by every process and read by the web process's ``/metrics``.

Why Redis and not prometheus_client's own counters: jobs run in worker processes (forked work horses,
several dynos), jobs are enqueued by web and scheduler processes, and Prometheus scrapes only the web
process. In-process counters would show one process's share; prometheus_client's multiprocess mode
shares a directory, which does not span dynos. Redis is what every process already shares, so each
event is one pipelined HINCRBY here, and ``web.metrics`` exposes the totals through a custom collector.

Counters are per (event, task, queue): ``enqueued`` (by :func:`jobs.enqueue.enqueue`), and the
lifecycle events from :mod:`jobs.hooks`: ``started``, ``finished``, ``failed`` (for good), ``retried``
(failed, a retry is scheduled) and ``stopped``. Job durations feed a histogram with :data:`BUCKETS`.
Task names come from the registry and queues from settings, so the number of series stays bounded.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from redis import Redis
from rq.utils import as_text

from jobs import keys
from jobs.hooks import JobEvent, on

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, math.inf)
EVENT_NAMES = {"started": "started", "finished": "finished", "failed": "failed", "retrying": "retried"}
COUNTED = ("enqueued", "started", "finished", "failed", "retried", "stopped")
SEP = "\t"


def _field(*parts: str) -> str:
    return SEP.join(parts)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(bound)


def record(connection: Redis, event: str, task: str, queue: str, duration: float | None = None) -> None:
    """Count one ``event`` (one of :data:`COUNTED`) of ``task`` on ``queue``; with ``duration``, also
    observe it in the duration histogram."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.hincrby(keys.METRICS_JOBS, _field(event, task, queue), 1)
        if duration is not None:
            bound = next(b for b in BUCKETS if duration <= b)
            pipe.hincrby(keys.METRICS_DURATION, _field(task, queue, _le(bound)), 1)
            pipe.hincrbyfloat(keys.METRICS_DURATION, _field(task, queue, "sum"), duration)
            pipe.hincrby(keys.METRICS_DURATION, _field(task, queue, "count"), 1)
        pipe.execute()


@on("started", "finished", "retrying", "failed", "stopped")
def count_job_event(event: JobEvent) -> None:
    """Hook subscriber (runs in the worker): count the event, and the attempt's duration when it ended."""
    record(
        event.job.connection,
        EVENT_NAMES.get(event.event, event.event),
        event.task,
        event.queue,
        event.duration if event.event != "started" else None,
    )


@dataclass(frozen=True)
class Histogram:
    """One (task, queue)'s durations: cumulative ``buckets`` as (upper bound, count), sum and count."""

    buckets: list[tuple[str, int]]
    sum: float
    count: int


def read_counters(connection: Redis) -> dict[tuple[str, str, str], int]:
    """Every counter: ``{(event, task, queue): value}``."""
    counters = {}
    for raw_field, raw_value in connection.hgetall(keys.METRICS_JOBS).items():
        parts = as_text(raw_field).split(SEP)
        if len(parts) == 3:
            counters[(parts[0], parts[1], parts[2])] = int(raw_value)
    return counters


def read_durations(connection: Redis) -> dict[tuple[str, str], Histogram]:
    """Every duration histogram: ``{(task, queue): Histogram}`` with cumulative buckets."""
    per_bucket: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for raw_field, raw_value in connection.hgetall(keys.METRICS_DURATION).items():
        parts = as_text(raw_field).split(SEP)
        if len(parts) == 3:
            per_bucket[(parts[0], parts[1])][parts[2]] = float(raw_value)
    histograms = {}
    for series, values in per_bucket.items():
        running = 0
        buckets = []
        for bound in BUCKETS:
            running += int(values.get(_le(bound), 0))
            buckets.append((_le(bound), running))
        histograms[series] = Histogram(buckets, values.get("sum", 0.0), int(values.get("count", 0)))
    return histograms
