"""Every RQ internal Taskyard relies on (the worker's, and the scheduler's few), in one place;
:mod:`jobs.worker.rq_contract` checks each.

The worker (:mod:`jobs.worker.round_trips`, :mod:`jobs.worker.horse`, :mod:`jobs.worker.prefork`,
:mod:`jobs.worker.recovery`, :mod:`jobs.worker.pool`, :mod:`jobs.worker.admission`, :mod:`jobs.outcome`,
:mod:`jobs.delayed`) extends RQ's ``Worker`` by overriding its methods, and needs some of RQ's private
state: a worker's, a job's, a queue's, a pool's, and the key names RQ's Lua and registries use. None of
that is RQ's public API, so ``rq`` is pinned to one minor version (``pyproject.toml``) and this module
is the only place that touches it:

* the non-public imports (``from jobs.worker.rq_compat import ...`` rather than from RQ's submodules);
* :class:`WorkerInternals`, mixed into every worker class before RQ's: a worker's private attributes
  and methods as named properties and methods (nothing else in the worker reads ``self._...`` of RQ);
* accessors for the private fields of a ``Job``, a ``Queue`` and a ``WorkerPool``;
* the scheduler's batched unique enqueue (RQ's own Lua script and job preparation, run for many jobs in
  one pipeline, ``scheduler/runner.py``) and RQ's scheduler lock script (``scheduler/delayed_jobs.py``);
* the key names and hash fields of RQ's that our Lua and transactions write (:data:`INTERMEDIATE_SUFFIX`,
  :data:`JOB_STATUS_FIELD`, :func:`job_id_of_execution`).

``tests/unit/test_rq_compat.py`` runs :func:`jobs.worker.rq_contract.contract_problems` against the
installed RQ and fails naming each method, attribute or key that moved. Upgrading RQ: raise the pin, run
that test, adapt what it names here, then run the worker suites.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rq.exceptions import DeserializationError, StopRequested
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.rate_limit import release_slot
from rq.registry import clean_registries
from rq.scripts import ACQUIRE_OR_REFRESH_LOCK_SCRIPT, get_unique_enqueue_script, release_lock
from rq.scripts import _build_hset_args as job_hset_args
from rq.utils import now
from rq.worker.base import DequeueStrategy, WorkerStatus
from rq.worker_pool import WorkerPool
from rq.worker_registration import clean_worker_registry

__all__ = [
    "ACQUIRE_OR_REFRESH_LOCK_SCRIPT",
    "INTERMEDIATE_SUFFIX",
    "JOB_STATUS_FIELD",
    "DequeueStrategy",
    "DeserializationError",
    "StopRequested",
    "WorkerInternals",
    "WorkerStatus",
    "callback_names",
    "clean_registries",
    "clean_worker_registry",
    "get_unique_enqueue_script",
    "handle_success",
    "has_callbacks",
    "job_hset_args",
    "job_id_of_execution",
    "mark_finished",
    "pool_connection_args",
    "prepare_for_queue",
    "queue_options",
    "release_lock",
    "release_slot",
    "resolve_function_as",
]

INTERMEDIATE_SUFFIX = (
    ":intermediate"  # a queue's intermediate list: its key plus this (RQ's IntermediateQueue)
)
JOB_STATUS_FIELD = "status"  # the field of RQ's job hash that holds the job's status


class WorkerInternals:
    """RQ's private worker state and methods under names of ours; mix in before RQ's ``Worker``.

    Each property or method here is one private name of RQ's ``BaseWorker``; the contract lists them
    (``WORKER_ATTRIBUTES``, ``WORKER_INTERNAL_METHODS``), and checks that RQ defines none of our names
    itself (a public name of RQ's would be shadowed)."""

    _ordered_queues: list[Queue]
    _stop_requested: bool
    _state: str
    _exc_handlers: list[Any]
    _stopped_job_id: str | None
    _is_horse: bool
    _horse_pid: int
    _shutdown_requested_date: datetime | None
    _dequeue_strategy: DequeueStrategy | None

    @property
    def ordered_queues(self) -> list[Queue]:
        """The queues in the order the next pop tries them (RQ reorders them per dequeue strategy)."""
        return self._ordered_queues

    @property
    def stop_requested(self) -> bool:
        """Whether the worker is to stop taking jobs (RQ's loop checks it between jobs)."""
        return self._stop_requested

    @stop_requested.setter
    def stop_requested(self, value: bool) -> None:
        self._stop_requested = value

    @property
    def cached_state(self) -> str:
        """The state this object last wrote to Redis (``set_state``); ``""`` forces the next write."""
        return self._state

    @cached_state.setter
    def cached_state(self, value: str) -> None:
        self._state = value

    @property
    def rq_exception_handlers(self) -> list[Any]:
        """The exception handlers RQ calls for a failed job, in order (a falsy return stops the chain)."""
        return self._exc_handlers

    @property
    def stopped_job_id(self) -> str | None:
        """The job a ``send_stop_job_command`` asked to stop, if any (RQ then marks it stopped)."""
        return self._stopped_job_id

    @stopped_job_id.setter
    def stopped_job_id(self, value: str | None) -> None:
        self._stopped_job_id = value

    def become_horse(self) -> None:
        """Mark this process as a work horse (RQ's ``is_horse``; a horse does not run the scheduler)."""
        self._is_horse = True

    def set_horse_pid(self, pid: int) -> None:
        """Record the horse's pid (RQ's ``horse_pid``, read by ``kill_horse`` and the stop commands); 0: none."""
        self._horse_pid = pid

    def note_shutdown_requested(self) -> None:
        """Remember when a warm shutdown was asked for (RQ's ``set_shutdown_requested_date`` writes it)."""
        self._shutdown_requested_date = now()

    def set_dequeue_strategy(self, strategy: DequeueStrategy) -> None:
        """The order the queues are tried in (``work(dequeue_strategy=...)``), read by ``reorder_queues``."""
        self._dequeue_strategy = strategy

    def install_signal_handlers(self) -> None:
        """RQ's SIGINT/SIGTERM handlers: ``request_stop``, then ``request_force_stop``."""
        self._install_signal_handlers()  # type: ignore[attr-defined]

    def handle_stopped_job(self, job: Job, queue: Queue, execution: Execution) -> None:
        """RQ's bookkeeping for a job stopped by command: status STOPPED, stopped callback, registries."""
        self._handle_stopped_job(job, queue, execution)  # type: ignore[attr-defined]

    def check_return_value(self, job: Job, return_value: Any) -> None:
        """Raise to fail an attempt that returned ``return_value``, inside RQ's own failure path.
        Subclasses and mixins override it and call ``super()``; this one accepts every value."""

    def _finalize_success(self, job: Job, queue: Queue, execution: Execution, return_value: Any) -> None:
        """RQ's ``perform_job`` calls this inside its ``try``: an exception here fails the attempt."""
        self.check_return_value(job, return_value)
        super()._finalize_success(job, queue, execution, return_value)  # type: ignore[misc]


# --- Job, queue and pool internals -----------------------------------------------------------------
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


def queue_options(queue: Queue) -> dict[str, Any]:
    """The constructor options of ``queue`` that RQ keeps private (to build the same queue again)."""
    return {"default_timeout": queue._default_timeout, "is_async": queue._is_async}


def pool_connection_args(pool: WorkerPool) -> tuple[list[str], Any, Any, dict[str, Any]]:
    """What RQ's ``WorkerPool`` hands each worker process: queue names, connection class, connection
    pool class and its kwargs (RQ's ``run_worker`` arguments)."""
    return list(pool._queue_names), pool._connection_class, pool._pool_class, pool._pool_kwargs


def job_id_of_execution(members: Iterable[bytes | str], execution_id: str) -> str | None:
    """The job id of ``execution_id`` among a worker's executions set (RQ stores ``<job id>:<execution
    id>``, ``Execution.composite_key``; a job id may itself hold colons). None if it is not there."""
    suffix = ":" + execution_id
    for member in members:
        key = member.decode() if isinstance(member, bytes) else member
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return None


def prepare_for_queue(queue: Queue, job: Job) -> None:
    """What ``Queue.enqueue_job`` does to a job before it is pushed (status, origin, enqueued_at)."""
    queue._prepare_for_queue(job)
