"""Millisecond due times for delayed jobs in RQ's own ``ScheduledJobRegistry``.

RQ scores a delayed job (``Queue.enqueue_at/enqueue_in``, ``schedule_job``, a ``Retry(interval=...)``)
in whole seconds, truncating: a job due at 10.7 s is scored 10, and RQ's scheduler releases it once the
current whole second reaches 10, up to a second early. Taskyard keeps the job in that same registry (so
RQ, rq-dashboard and ``rq info`` still see it) but writes the score with millisecond precision:

- a **fractional score** is an exact due time, written by Taskyard (:func:`score_for`). A due time that
  falls exactly on a whole second is written half a millisecond later, so it stays fractional;
- a **whole-second score** was written by plain RQ, which truncated the real due time somewhere inside
  that second; it is due at the *end* of that second (:func:`due_at`), so it is never early.

The scheduler process moves jobs by :func:`due_at` (``scheduler/delayed_jobs.py``). RQ's own scheduler,
if a team runs one, compares scores with the current whole second, so it releases a fractional score at
the next whole second: never early there either.

:class:`PreciseQueue` is RQ's ``Queue`` whose ``schedule_job`` writes the precise score; the worker mixes
in :class:`PreciseRetryMixin` so the ``Retry`` intervals of failed jobs keep their milliseconds too.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from redis.client import Pipeline
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from jobs.worker.rq_compat import queue_options

WHOLE_SECOND_NUDGE = 0.0005  # seconds added to a due time that falls exactly on a whole second


def score_for(when: datetime) -> float:
    """The registry score of a job due at ``when`` (naive means UTC): milliseconds, never a whole number."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    score = math.ceil(aware.timestamp() * 1000) / 1000  # up to the millisecond: never early
    return score + WHOLE_SECOND_NUDGE if score == math.floor(score) else score


def due_at(score: float) -> float:
    """When a job with this registry score is due (epoch seconds): the score itself if it is fractional
    (written by :func:`score_for`), the end of the second if it is whole (written by plain RQ)."""
    return score + 1.0 if score == math.floor(score) else score


def reschedule_precisely(
    connection: Any, job: Job, queue_name: str, when: datetime, pipeline: Pipeline | None = None
) -> None:
    """Overwrite the whole-second score RQ just wrote for ``job`` with the precise one (``ZADD XX``: a job
    already moved or removed is not put back)."""
    key = ScheduledJobRegistry(queue_name, connection=connection).key
    (pipeline if pipeline is not None else connection).zadd(key, {job.id: score_for(when)}, xx=True)


class PreciseQueue(Queue):
    """RQ's ``Queue``; ``schedule_job`` keeps the due time's milliseconds in the registry score."""

    def schedule_job(
        self, job: Job, datetime: datetime, pipeline: Pipeline | None = None, unique: bool = False
    ) -> Job:
        job = super().schedule_job(job, datetime, pipeline=pipeline, unique=unique)
        # With a pipeline both writes land in it, in order; without one RQ has written its score
        # already and ours replaces it (meanwhile the whole-second score is due later, not earlier).
        reschedule_precisely(self.connection, job, self.name, datetime, pipeline=None if unique else pipeline)
        return job

    @classmethod
    def like(cls, queue: Queue) -> PreciseQueue:
        """The same queue (name, connection, serializer, job class) as a :class:`PreciseQueue`."""
        if isinstance(queue, cls):
            return queue
        return cls(
            queue.name,
            connection=queue.connection,
            serializer=queue.serializer,
            job_class=queue.job_class,
            death_penalty_class=queue.death_penalty_class,
            **queue_options(queue),
        )


class PreciseRetryMixin:
    """For RQ workers: a failed job's ``Retry(interval=...)`` is scheduled with millisecond precision.

    RQ's ``handle_job_failure`` calls ``job.retry(queue, pipeline)``, which calls
    ``queue.schedule_job``; we hand it the same queue as a :class:`PreciseQueue`.
    """

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> Any:
        return super().handle_job_failure(job, PreciseQueue.like(queue), *args, **kwargs)  # type: ignore[misc]
