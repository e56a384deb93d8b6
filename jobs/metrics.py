"""Job metrics, counted in Redis by every process and read by the web process's ``/metrics``.

Why Redis and not prometheus_client's own counters: jobs run in worker processes (forked work horses,
several dynos), jobs are enqueued by web and scheduler processes, and Prometheus scrapes only the web
process. In-process counters would show one process's share; prometheus_client's multiprocess mode
shares a directory, which does not span dynos. Redis is what every process already shares, so each
event is one pipelined HINCRBY here, and ``web.monitoring.metrics`` exposes the totals through a custom collector.

Counters are per (event, task, queue): ``enqueued`` (by :func:`jobs.enqueue.enqueue`), and the
lifecycle events from :mod:`jobs.hooks`: ``started``, ``finished``, ``failed`` (for good), ``retried``
(failed, a retry is scheduled) and ``stopped``. Job durations feed a histogram with :data:`BUCKETS`.
Task names come from the registry and queues from settings, so the number of series stays bounded.

Batching in the work horse: a long-lived horse (:mod:`jobs.worker.prefork`) calls :func:`buffer_in_process`,
after which the hook subscriber adds to counts held in the horse's memory instead of writing each
event; the counts go out in one pipeline at most every ``FLUSH_INTERVAL`` seconds while jobs flow,
whenever the horse finds its queues empty, and when it exits (recycling, shutdown, burst done). Two
round trips per job become one every half second. **Crash window**: a horse that dies without exiting
(SIGKILL, a job calling ``os._exit``, the OOM killer) loses the counts of at most the last
``FLUSH_INTERVAL`` seconds of its jobs; the worker still counts the failure of the job that killed it.
Every other process (web, scheduler, RQ's own workers in tests) writes each event at once.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from redis import Redis
from redis.client import Pipeline
from rq.utils import as_text

from jobs import keys
from jobs.hooks import JobEvent, on

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, math.inf)
EVENT_NAMES = {"started": "started", "finished": "finished", "failed": "failed", "retrying": "retried"}
COUNTED = ("enqueued", "started", "finished", "failed", "retried", "stopped")
SEP = "\t"
FLUSH_INTERVAL = 0.5  # longest a buffering horse holds its counts while jobs flow (its crash window)
RATE_EVENTS = ("enqueued", "finished", "failed")  # also counted per minute, for the overview's rates
MINUTE_TTL = 25 * 3600  # a per-minute bucket outlives the day the overview shows


def _field(*parts: str) -> str:
    return SEP.join(parts)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(bound)


class Counts:
    """Counter increments not yet written: field → amount, per hash, plus duration sums."""

    def __init__(self) -> None:
        self.jobs: Counter[str] = Counter()
        self.durations: Counter[str] = Counter()
        self.sums: dict[str, float] = defaultdict(float)

    def add(self, event: str, task: str, queue: str, duration: float | None = None) -> None:
        """Count one ``event``; with ``duration``, observe it in the histogram."""
        self.jobs[_field(event, task, queue)] += 1
        if duration is not None:
            bound = next(b for b in BUCKETS if duration <= b)
            self.durations[_field(task, queue, _le(bound))] += 1
            self.durations[_field(task, queue, "count")] += 1
            self.sums[_field(task, queue, "sum")] += duration

    def __bool__(self) -> bool:
        return bool(self.jobs or self.durations)

    def write(self, connection: Redis) -> None:
        """Add every count to Redis in one pipeline (one HINCRBY per field); raises Redis errors."""
        with connection.pipeline(transaction=False) as pipe:
            self.queue_into(pipe)
            pipe.execute()

    def queue_into(self, pipe: Pipeline, now: float | None = None) -> None:
        """Put the HINCRBYs of every count on ``pipe`` (the caller executes it), and add the
        :data:`RATE_EVENTS` to the current minute's bucket (counted when written: a buffering horse's
        counts land in the minute they are flushed, at most ``FLUSH_INTERVAL`` late)."""
        per_minute: Counter[str] = Counter()
        for name, amount in self.jobs.items():
            pipe.hincrby(keys.METRICS_JOBS, name, amount)
            event = name.split(SEP, 1)[0]
            if event in RATE_EVENTS:
                per_minute[event] += amount
        if per_minute:
            bucket = keys.metrics_minute(int((time.time() if now is None else now) // 60))
            for event, amount in per_minute.items():
                pipe.hincrby(bucket, event, amount)
            pipe.expire(bucket, MINUTE_TTL)
        for name, amount in self.durations.items():
            pipe.hincrby(keys.METRICS_DURATION, name, amount)
        for name, total in self.sums.items():
            pipe.hincrbyfloat(keys.METRICS_DURATION, name, total)


class _Buffer:
    """The counts a buffering process holds, and when it last wrote them."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.counts = Counts()
        self.written_at = time.monotonic()


_buffer: _Buffer | None = None  # set in a work horse by buffer_in_process(); never in web or scheduler


def buffer_in_process(interval: float = FLUSH_INTERVAL) -> None:
    """From now on, this process holds its job-event counts in memory and writes them at most every
    ``interval`` seconds (see the module docstring); call :func:`flush` when idle and before exiting."""
    global _buffer
    _buffer = _Buffer(interval)


def flush(connection: Redis) -> None:
    """Write the counts this process holds, if any. A Redis error keeps them for the next flush."""
    if _buffer is None or not _buffer.counts:
        return
    _buffer.counts.write(connection)
    _buffer.counts = Counts()
    _buffer.written_at = time.monotonic()


def record(connection: Redis, event: str, task: str, queue: str, duration: float | None = None) -> None:
    """Count one ``event`` (one of :data:`COUNTED`) of ``task`` on ``queue``; with ``duration``, also
    observe it in the duration histogram. Written at once, unless this process buffers its counts."""
    if _buffer is None:
        counts = Counts()
        counts.add(event, task, queue, duration)
        counts.write(connection)
        return
    _buffer.counts.add(event, task, queue, duration)
    if time.monotonic() - _buffer.written_at >= _buffer.interval:
        flush(connection)


def record_into(pipe: Pipeline, event: str, task: str, queue: str) -> None:
    """Count one ``event`` as part of a pipeline the caller executes (enqueue: one round trip in all)."""
    counts = Counts()
    counts.add(event, task, queue)
    counts.queue_into(pipe)


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


def read_minutes(connection: Redis, first: int, last: int) -> dict[int, dict[str, int]]:
    """Per-minute counts of :data:`RATE_EVENTS` for minutes ``first``..``last`` (epoch seconds // 60),
    in one round trip; a minute without events is absent."""
    minutes = range(first, last + 1)
    with connection.pipeline(transaction=False) as pipe:
        for minute in minutes:
            pipe.hmget(keys.metrics_minute(minute), *RATE_EVENTS)
        rows = pipe.execute()
    found = {}
    for minute, values in zip(minutes, rows, strict=True):
        if any(values):
            found[minute] = {e: int(v or 0) for e, v in zip(RATE_EVENTS, values, strict=True)}
    return found
