"""Job lifecycle hooks: code subscribes to job events, as BullMQ's ``queue.on('completed')`` allows.

Events, emitted by the worker around every attempt (see :class:`jobs.worker.pool.TaskyardMixin`):
``started``; then one of ``finished``, ``retrying`` (failed, a retry is scheduled), ``failed``
(failed for good) or ``stopped`` (canceled while running). Each subscriber gets a :class:`JobEvent`.
A subscriber that raises is logged and skipped: hooks never change a job's outcome. Metrics, alerts and
the per-job log line are subscribers like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rq.job import Job

from jobs.worker.rq_compat import DeserializationError

log = logging.getLogger("taskyard.hooks")

UNREADABLE = "<undeserializable>"  # the task of a job whose function and arguments cannot be read

EVENTS = ("started", "finished", "retrying", "failed", "stopped")

Subscriber = Callable[["JobEvent"], None]


@dataclass(frozen=True)
class JobEvent:
    """What happened to which job. ``duration`` (seconds) and ``error`` are set on ending events."""

    event: str
    job: Job
    task: str
    queue: str
    duration: float | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Hooks:
    """Subscribers per event."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {event: [] for event in EVENTS}

    def subscribe(self, *events: str) -> Callable[[Subscriber], Subscriber]:
        """Decorator: call the function for each of ``events`` (all events when none are named)."""
        unknown = set(events) - set(EVENTS)
        if unknown:
            raise ValueError(f"unknown job events: {', '.join(sorted(unknown))}")

        def add(subscriber: Subscriber) -> Subscriber:
            for event in events or EVENTS:
                if subscriber not in self._subscribers[event]:
                    self._subscribers[event].append(subscriber)
            return subscriber

        return add

    def unsubscribe(self, subscriber: Subscriber) -> None:
        for subscribers in self._subscribers.values():
            if subscriber in subscribers:
                subscribers.remove(subscriber)

    def emit(self, event: JobEvent) -> None:
        """Deliver ``event`` to its subscribers; a failing subscriber is logged, not raised."""
        for subscriber in list(self._subscribers[event.event]):
            try:
                subscriber(event)
            except Exception:
                log.exception("job hook %r failed on %s of job %s", subscriber, event.event, event.job.id)


hooks = Hooks()
on = hooks.subscribe


def task_of(job: Job) -> str:
    """The task name events carry: the registered name when the job was enqueued through our API, else
    the function RQ stores. Never raises: a job whose data cannot be deserialized (another serializer,
    a class only its client has) is :data:`UNREADABLE`, and RQ's error path fails it."""
    task = job.meta.get("task")
    if task:
        return str(task)
    try:
        return str(job.func_name)
    except DeserializationError:
        return UNREADABLE


@on()
def log_line(event: JobEvent) -> None:
    """One log line per start, finish and failure: task, job id, duration."""
    level = logging.WARNING if event.event in ("failed", "retrying") else logging.INFO
    message = f"{event.event} task={event.task} job={event.job.id} queue={event.queue}"
    if event.duration is not None:
        message += f" duration={event.duration:.3f}s"
    if event.error:
        message += f" error={event.error!r}"
    logging.getLogger("taskyard.jobs").log(
        level,
        message,
        extra={"event": event.event, "task": event.task, "job_id": event.job.id, "duration": event.duration},
    )
