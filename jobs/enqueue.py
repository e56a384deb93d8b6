"""The Python API for putting work on a queue: by task name, through RQ's own ``Queue``.

The REST API and the scheduler both call :func:`enqueue`; nothing else builds RQ jobs for tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from rq.exceptions import DuplicateJobError
from rq.job import Job, JobStatus

from jobs.delayed import PreciseQueue
from jobs.dependencies import dependency_for
from jobs.metrics import record as record_metric
from jobs.metrics import record_into
from jobs.registry import TaskRegistry, TaskSpec, registry
from jobs.retry import RetryPolicy
from jobs.settings import Settings

PENDING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED, JobStatus.CREATED)


class UnknownQueue(LookupError):
    """The queue is not one this deployment's workers listen on."""


class JobIdTaken(ValueError):
    """A job with this id exists and is no longer pending (finished, failed or canceled)."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id!r} already exists with status {job.get_status()}")
        self.job = job


@dataclass(frozen=True)
class JobRequest:
    """What to run and how. ``run_at`` must be timezone-aware; ``delay_seconds`` and ``run_at`` exclude
    each other. ``max_retries`` overrides the task's retry count for this job only."""

    task: str
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    queue: str | None = None
    delay_seconds: float | None = None
    run_at: datetime | None = None
    job_id: str | None = None
    at_front: bool = False
    timeout: int | None = None
    max_retries: int | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    depends_on: Sequence[str] = ()  # job ids this job waits for (jobs/dependencies.py)
    allow_failure: bool = False  # with depends_on: a failed dependency counts as done


@dataclass(frozen=True)
class Enqueued:
    """The job and whether this call created it (False: an existing pending job with the same id)."""

    job: Job
    created: bool


def default_retry(settings: Settings) -> RetryPolicy:
    """The deployment-wide policy for tasks that declare none: JOB_MAX_RETRIES at JOB_RETRY_DELAY."""
    return RetryPolicy(
        max_retries=settings.worker.max_retries, backoff="fixed", delay=settings.worker.retry_delay
    )


def retry_policy(spec: TaskSpec, settings: Settings, max_retries: int | None = None) -> RetryPolicy:
    """The policy a job of ``spec`` runs under, with an optional per-job retry count."""
    policy = spec.retry if spec.retry is not None else default_retry(settings)
    return policy if max_retries is None else policy.with_max_retries(max_retries)


def due_time(request: JobRequest, now: Callable[[], datetime]) -> datetime | None:
    """When the job should start, or None for "now". The job waits in RQ's ScheduledJobRegistry with
    this time to the millisecond (:class:`jobs.delayed.PreciseQueue`); the scheduler moves it then."""
    if request.delay_seconds:
        when = now() + timedelta(seconds=request.delay_seconds)
    elif request.run_at is not None:
        when = request.run_at.astimezone(UTC)
    else:
        return None
    return None if when <= now() else when


def resolve(
    connection: Redis, settings: Settings, request: JobRequest, tasks: TaskRegistry = registry
) -> tuple[TaskSpec, PreciseQueue]:
    """The task a request names and the queue it goes to (``UnknownTask``, :class:`UnknownQueue`)."""
    spec = tasks.get(request.task)
    queue_name = request.queue or spec.queue
    if queue_name not in settings.worker.queues:
        raise UnknownQueue(queue_name)
    return spec, PreciseQueue(queue_name, connection=connection)  # delayed jobs keep their milliseconds


def new_job(
    queue: PreciseQueue, spec: TaskSpec, settings: Settings, request: JobRequest, dependency: Any = None
) -> Job:
    """The RQ job ``request`` describes, built but not saved: the one construction :func:`enqueue` and
    the batch path share (timeouts, TTLs, the task's retry policy, ``meta["task"]``)."""
    policy = retry_policy(spec, settings, request.max_retries)
    return queue.create_job(
        spec.path,
        args=tuple(request.args),
        kwargs=dict(request.kwargs),
        timeout=request.timeout or spec.timeout or settings.worker.job_timeout,
        result_ttl=settings.worker.result_ttl,
        failure_ttl=settings.worker.failure_ttl,
        description=spec.name,
        job_id=request.job_id,
        meta={"task": spec.name, "max_retries": policy.max_retries, **request.meta},
        retry=policy.to_rq(),
        depends_on=dependency,
    )


def enqueue(
    connection: Redis,
    settings: Settings,
    request: JobRequest,
    *,
    tasks: TaskRegistry = registry,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Enqueued:
    """Enqueue (or schedule) a job for a registered task.

    Raises ``UnknownTask``, :class:`UnknownQueue`, or :class:`JobIdTaken` when ``job_id`` names a job that
    is no longer pending. A ``job_id`` naming a pending job returns that job with ``created=False``:
    RQ's ``unique=True`` makes the check-and-save atomic, so two concurrent calls never make two jobs.
    """
    spec, queue = resolve(connection, settings, request, tasks)
    queue_name = queue.name
    dependency = None
    if request.depends_on:
        delayed = bool(request.delay_seconds) or request.run_at is not None
        dependency = dependency_for(
            connection, request.depends_on, request.allow_failure, delayed=delayed, job_id=request.job_id
        )
    job = new_job(queue, spec, settings, request, dependency)
    if dependency is not None:  # RQ defers or enqueues it, retrying its WATCH on the dependencies itself
        job = queue.enqueue_job(job, at_front=request.at_front)
        record_metric(connection, "enqueued", spec.name, queue_name)
        return Enqueued(job, created=True)
    when = due_time(request, now)
    if request.job_id is None:
        # One round trip: RQ's own enqueue (or schedule) and the enqueued counter in one transaction.
        with connection.pipeline() as pipe:
            if when is not None:
                job = queue.schedule_job(job, when, pipeline=pipe)
            else:
                job = queue.enqueue_job(job, pipeline=pipe, at_front=request.at_front)
            record_into(pipe, "enqueued", spec.name, queue_name)
            pipe.execute()
        return Enqueued(job, created=True)
    try:  # RQ's unique check-and-save is a Lua script of its own; it does not join a pipeline
        if when is not None:
            job = queue.schedule_job(job, when, unique=True)
        else:
            job = queue.enqueue_job(job, at_front=request.at_front, unique=True)
    except DuplicateJobError:
        existing = Job.fetch(request.job_id, connection=connection)
        if existing.get_status() in PENDING:
            return Enqueued(existing, created=False)
        raise JobIdTaken(existing) from None
    record_metric(connection, "enqueued", spec.name, queue_name)
    return Enqueued(job, created=True)
