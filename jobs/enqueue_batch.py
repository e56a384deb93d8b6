"""Enqueueing many jobs in one round trip: the bulk path beside :func:`jobs.enqueue.enqueue`.

Each request is checked (registered task, known queue) and built exactly as :func:`jobs.enqueue.enqueue`
builds it (same meta, timeouts, TTLs, retry policy, due time); the valid ones are then enqueued — or
scheduled — together in one Redis pipeline (one transaction), with their ``enqueued`` counters. A request
that names a ``job_id`` needs RQ's unique check-and-save, a Lua script of its own that does not join a
pipeline, so those go through :func:`jobs.enqueue.enqueue` one by one, after the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis
from rq.job import Job

from jobs.delayed import PreciseQueue
from jobs.enqueue import JobIdTaken, JobRequest, UnknownQueue, due_time, enqueue, new_job, resolve
from jobs.metrics import record_into
from jobs.registry import TaskRegistry, UnknownTask, registry
from jobs.settings import Settings


@dataclass(frozen=True)
class Outcome:
    """The job made for one request, or why there is none (``error`` is one of the enqueue errors)."""

    job: Job | None = None
    created: bool = False
    error: Exception | None = None


def enqueue_batch(
    connection: Redis,
    settings: Settings,
    requests: Sequence[JobRequest],
    *,
    tasks: TaskRegistry = registry,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Outcome]:
    """One :class:`Outcome` per request, in order. Errors are per request (``UnknownTask``,
    :class:`UnknownQueue`, :class:`JobIdTaken`); they never keep the other requests out."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    pending: list[tuple[int, Job, PreciseQueue, datetime | None, bool, str]] = []
    for index, request in enumerate(requests):
        if request.job_id is not None:
            continue
        try:
            spec, queue = resolve(connection, settings, request, tasks)
        except (UnknownTask, UnknownQueue) as error:
            outcomes[index] = Outcome(error=error)
            continue
        job = new_job(queue, spec, settings, request)
        pending.append((index, job, queue, due_time(request, now), request.at_front, spec.name))
    if pending:
        with connection.pipeline() as pipe:
            for _, job, queue, when, at_front, task in pending:
                if when is not None:
                    queue.schedule_job(job, when, pipeline=pipe)
                else:
                    queue.enqueue_job(job, pipeline=pipe, at_front=at_front)
                record_into(pipe, "enqueued", task, queue.name)
            pipe.execute()
        for index, job, *_ in pending:
            outcomes[index] = Outcome(job=job, created=True)
    for index, request in enumerate(requests):
        if request.job_id is None:
            continue
        try:
            result = enqueue(connection, settings, request, tasks=tasks, now=now)
        except (UnknownTask, UnknownQueue, JobIdTaken) as error:
            outcomes[index] = Outcome(error=error)
            continue
        outcomes[index] = Outcome(job=result.job, created=result.created)
    return [outcome or Outcome() for outcome in outcomes]
