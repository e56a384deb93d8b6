"""Every RQ internal the worker relies on, in one place, with the contract a test checks.

The worker (:mod:`jobs.worker.round_trips`, :mod:`jobs.worker.horse`, :mod:`jobs.worker.prefork`, :mod:`jobs.worker.recovery`,
:mod:`jobs.worker`, :mod:`jobs.worker.admission`) extends RQ's ``Worker`` by overriding its methods and
reading a few of its private attributes, and reads private fields of RQ's ``Job``. None of that is
RQ's public API, so ``rq`` is pinned to one minor version (``pyproject.toml``) and this module holds:

* the non-public imports (``from jobs.worker.rq_compat import ...`` rather than from RQ's submodules);
* accessors for the private fields of a ``Job`` (nothing else in the worker touches ``job._...``);
* :data:`CONTRACT`: each RQ method we override or call with the parameters we rely on, and each
  private attribute our mixins read or write on a worker. :func:`contract_problems` compares it with
  the installed RQ; ``tests/unit/test_rq_compat.py`` fails naming the method or attribute that moved.

Upgrading RQ: raise the pin, run that test, adapt the methods it names, then the worker suites.
"""

from __future__ import annotations

import inspect
from typing import Any

from rq.exceptions import DeserializationError, StopRequested
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.rate_limit import release_slot
from rq.registry import clean_registries
from rq.worker import Worker
from rq.worker.base import DequeueStrategy, WorkerStatus
from rq.worker_pool import WorkerPool
from rq.worker_registration import clean_worker_registry

__all__ = [
    "CONTRACT",
    "DequeueStrategy",
    "DeserializationError",
    "StopRequested",
    "WorkerStatus",
    "callback_names",
    "clean_registries",
    "clean_worker_registry",
    "contract_problems",
    "handle_success",
    "has_callbacks",
    "mark_finished",
    "release_slot",
    "resolve_function_as",
]

# (class, method) -> the parameters (after self) we pass or receive, in order.
CONTRACT: dict[tuple[type, str], tuple[str, ...]] = {
    (Worker, "work"): (
        "burst",
        "logging_level",
        "date_format",
        "log_format",
        "max_jobs",
        "max_idle_time",
        "with_scheduler",
        "dequeue_strategy",
    ),
    (Worker, "bootstrap"): ("logging_level", "date_format", "log_format"),
    (Worker, "dequeue_job_and_maintain_ttl"): ("timeout", "max_idle_time"),
    (Worker, "prepare_job_execution"): ("job", "remove_from_intermediate_queue"),
    (Worker, "perform_job"): ("job", "queue", "execution"),
    (Worker, "_finalize_success"): ("job", "queue", "execution", "return_value"),
    (Worker, "handle_execution_ended"): ("job", "queue", "heartbeat_ttl"),
    (Worker, "handle_job_success"): ("job", "queue", "started_job_registry", "execution"),
    (Worker, "handle_job_failure"): ("job", "queue", "started_job_registry", "exc_string", "execution"),
    (Worker, "_handle_stopped_job"): ("job", "queue", "execution"),
    (Worker, "heartbeat"): ("timeout", "pipeline"),
    (Worker, "maintain_heartbeats"): ("job", "execution"),
    (Worker, "get_heartbeat_ttl"): ("job", "working_time"),
    (Worker, "set_state"): ("state", "pipeline"),
    (Worker, "check_for_suspension"): ("burst",),
    (Worker, "run_maintenance_tasks"): (),
    (Worker, "clean_registries"): (),
    (Worker, "cleanup_execution"): ("job", "pipeline", "execution"),
    (Worker, "reorder_queues"): ("reference_queue",),
    (Worker, "increment_successful_job_count"): ("pipeline",),
    (Worker, "increment_total_working_time"): ("job_execution_time", "pipeline"),
    (Worker, "request_stop"): ("signum", "frame"),
    (Worker, "request_force_stop"): ("signum", "frame"),
    (Worker, "request_stop_execution"): ("execution_id",),
    (Worker, "kill_horse"): ("sig",),
    (Worker, "wait_for_horse"): (),
    (Worker, "_install_signal_handlers"): (),
    (Worker, "procline"): ("message",),
    (Worker, "teardown"): (),
    (WorkerPool, "get_worker_process"): ("name", "burst", "_sleep", "logging_level"),
    (Job, "_handle_success"): (
        "result_ttl",
        "pipeline",
        "worker_name",
        "execution_id",
        "execution_started_at",
        "execution_ended_at",
    ),
    (Job, "cleanup"): ("ttl", "pipeline", "remove_from_queue"),
    (Job, "prepare_for_execution"): ("worker_name", "pipeline"),
    (Job, "restore"): ("raw_data",),
    (Queue, "push_job_id"): ("job_id", "pipeline", "at_front"),
    (Queue, "enqueue_dependents"): ("job", "exclude_job_id", "refresh_job_status"),
    (Queue, "release_maintenance_lock"): (),
}

# Private attributes our mixins read or write on a Worker instance, and on a WorkerPool instance.
WORKER_ATTRIBUTES = (
    "_ordered_queues",
    "_stop_requested",
    "_state",
    "_exc_handlers",
    "_stopped_job_id",
    "_is_horse",
    "_shutdown_requested_date",
    "_dequeue_strategy",
)
POOL_ATTRIBUTES = ("_queue_names", "_connection_class", "_pool_class", "_pool_kwargs")
# Private attributes of a Queue read by the worker's retry path (jobs/delayed.py, PreciseQueue.like).
QUEUE_ATTRIBUTES = ("_default_timeout", "_is_async")
# Private fields of a Job read through the accessors below.
JOB_ATTRIBUTES = (
    "_func_name",
    "_status",
    "_success_callback_name",
    "_failure_callback_name",
    "_stopped_callback_name",
)


def _parameters(cls: type, name: str) -> tuple[str, ...] | None:
    member = inspect.getattr_static(cls, name, None)
    if member is None:
        return None
    function = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
    names = tuple(inspect.signature(function).parameters)
    return names[1:] if names and names[0] in ("self", "cls") else names


def contract_problems(
    worker: Worker, pool: WorkerPool | None = None, job: Job | None = None, queue: Queue | None = None
) -> list[str]:
    """What in the installed RQ differs from :data:`CONTRACT` (empty when all holds), one line each,
    naming the method or attribute. ``worker``/``pool``/``job``/``queue`` are instances to check
    attributes on."""
    problems = []
    for (cls, name), expected in CONTRACT.items():
        found = _parameters(cls, name)
        if found is None:
            problems.append(f"{cls.__module__}.{cls.__name__}.{name} is gone")
        elif found[: len(expected)] != expected:
            problems.append(f"{cls.__name__}.{name} takes {found}, the worker relies on {expected}")
    owners = (
        (worker, WORKER_ATTRIBUTES),
        (pool, POOL_ATTRIBUTES),
        (job, JOB_ATTRIBUTES),
        (queue, QUEUE_ATTRIBUTES),
    )
    for owner, names in owners:
        if owner is None:
            continue
        problems += [f"{type(owner).__name__} has no attribute {n}" for n in names if not hasattr(owner, n)]
    return problems


# --- Job internals ---------------------------------------------------------------------------------
def callback_names(job: Job) -> list[str]:
    """The import paths of the job's success, failure and stopped callbacks (those it has)."""
    names = (job._success_callback_name, job._failure_callback_name, job._stopped_callback_name)
    return [str(name) for name in names if name]


def has_callbacks(job: Job) -> bool:
    """Whether RQ must run a success or failure callback for the job (RQ's slower finish path)."""
    return bool(job._success_callback_name or job._failure_callback_name)


def resolve_function_as(job: Job, path: str) -> None:
    """Make this job object call the function at ``path`` without changing what is stored: the stored
    data keeps the name the client gave (``_func_name`` set alone leaves the serialized data as is)."""
    assert job._func_name is not None  # deserialized: the caller read func_name
    job._func_name = path


def mark_finished(job: Job) -> None:
    """Set the job object's cached status (the finish transaction wrote it to Redis)."""
    job._status = JobStatus.FINISHED


def handle_success(job: Job, result_ttl: int, pipeline: Any, worker_name: str, execution: Any) -> None:
    """RQ's ``Job._handle_success``: store the result and the finished registry entry in ``pipeline``."""
    job._handle_success(
        result_ttl,
        pipeline=pipeline,
        worker_name=worker_name,
        execution_id=execution.id,
        execution_started_at=execution.created_at,
        execution_ended_at=job.ended_at,
    )
