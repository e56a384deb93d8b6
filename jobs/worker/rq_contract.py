"""The contract of :mod:`jobs.worker.rq_compat`: what the worker relies on in RQ, checked against the
installed RQ by ``tests/unit/test_rq_compat.py``.

:data:`CONTRACT` names each RQ method we override or call with the parameters we rely on; the attribute
lists name each private attribute read on a worker, pool, job or queue; :func:`contract_problems` also
checks the key names of RQ's that :mod:`jobs.worker.rq_compat` spells out, and that RQ defines none of
the names :class:`~jobs.worker.rq_compat.WorkerInternals` adds. Each problem is one line naming the
method, attribute or key that moved.
"""

from __future__ import annotations

import inspect
from typing import Any

import rq.rate_limit
import rq.registry
import rq.scripts
import rq.worker_registration
from rq.executions import Execution
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job
from rq.queue import Queue
from rq.utils import as_text
from rq.worker import Worker
from rq.worker_pool import WorkerPool

from jobs.worker.rq_compat import INTERMEDIATE_SUFFIX, JOB_STATUS_FIELD, WorkerInternals, job_id_of_execution

# (class or module, method or function) -> the parameters (after self) we pass or receive, in order.
CONTRACT: dict[tuple[Any, str], tuple[str, ...]] = {
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
    (Queue, "dequeue_any"): ("queues", "timeout", "connection", "job_class"),
    (IntermediateQueue, "get_first_seen_key"): ("job_id",),
    (rq.registry, "clean_registries"): ("queue", "exception_handlers"),
    (rq.worker_registration, "clean_worker_registry"): ("queue",),
    (rq.rate_limit, "release_slot"): ("job",),
    (Queue, "_prepare_for_queue"): ("job",),
    (rq.scripts, "_build_hset_args"): ("job",),
    (rq.scripts, "get_unique_enqueue_script"): ("connection",),
    (rq.scripts, "release_lock"): ("connection", "lock_key", "owner_token"),
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
    "_horse_pid",
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

# The names WorkerInternals adds to a worker: RQ's Worker must not define any of them.
OUR_WORKER_NAMES = tuple(n for n in vars(WorkerInternals) if not n.startswith("_"))


def _parameters(cls: Any, name: str) -> tuple[str, ...] | None:
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
            where = cls.__name__ if inspect.ismodule(cls) else f"{cls.__module__}.{cls.__name__}"
            problems.append(f"{where}.{name} is gone")
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
    problems += [
        f"Worker defines {n} itself: WorkerInternals.{n} would shadow it"
        for n in OUR_WORKER_NAMES
        if inspect.getattr_static(Worker, n, None) is not None or n in vars(worker)
    ]
    return problems + _key_problems(worker, job, queue)


def _key_problems(worker: Worker, job: Job | None, queue: Queue | None) -> list[str]:
    """The key names and hash fields of RQ's that the worker's Lua and transactions spell out."""
    problems = []
    if queue is not None and queue.intermediate_queue_key != queue.key + INTERMEDIATE_SUFFIX:
        problems.append(
            f"Queue.intermediate_queue_key is {queue.intermediate_queue_key!r}, the worker's Lua "
            f"writes {queue.key + INTERMEDIATE_SUFFIX!r} (rq_compat.INTERMEDIATE_SUFFIX)"
        )
    if job is not None:
        stored = as_text(job.connection.hget(job.key, JOB_STATUS_FIELD) or b"")
        if stored != job.get_status(refresh=True):
            problems.append(
                f"the job hash holds no status in field {JOB_STATUS_FIELD!r} (rq_compat.JOB_STATUS_FIELD)"
            )
    execution = Execution("e1", "a:job", worker.connection)
    if job_id_of_execution([execution.composite_key], execution.id) != execution.job_id:
        problems.append(
            f"Execution.composite_key is {execution.composite_key!r}: rq_compat.job_id_of_execution "
            "expects '<job id>:<execution id>'"
        )
    return problems
