"""What happens to a job whose work horse ended while running it.

The supervising worker (:mod:`jobs.worker.prefork`) calls :func:`settle` once the horse is gone and the
slot still names a job. The job is

* left alone when the horse recorded its outcome and then died (finished or failed);
* handed back to the front of its queue when the worker killed the horse at the end of its shutdown
  grace (``reason`` :data:`HANDBACK`): the job did not fail, and no retry is used;
* marked stopped when a stop command asked for it (RQ's stopped bookkeeping, the ``stopped`` event);
* otherwise failed with :class:`HorseLost` and the reason (the worker's, or the horse's exit status),
  through RQ's exception handlers and ``handle_job_failure``, so its retry policy applies.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import JobStatus
from rq.utils import now

from jobs.hooks import JobEvent, hooks, task_of
from jobs.worker.horse_state import Running, describe_exit

if TYPE_CHECKING:
    from jobs.worker.prefork import PreforkWorker

log = logging.getLogger("taskyard.worker")

HANDBACK = "handback"  # the reason for a horse killed at the end of the shutdown grace


class HorseLost(Exception):
    """The work horse died or was killed while running a job (the message says how)."""


def settle(worker: PreforkWorker, running: Running, status: int, reason: str | None) -> None:
    """The horse running ``running`` ended with ``status``: fail, retry, mark stopped, or hand the job
    back (see the module docstring). ``reason`` is why the worker killed it, if it did."""
    job_id = worker.job_id_of(running)
    if job_id is None:
        log.warning(
            "worker %s: execution %s ended with its horse, its job is gone", worker.name, running.execution_id
        )
        return
    connection = worker.connection
    try:
        job = worker.job_class.fetch(job_id, connection=connection, serializer=worker.serializer)
    except NoSuchJobError:
        return
    if job.get_status(refresh=False) in (JobStatus.FINISHED, JobStatus.FAILED):
        return  # the horse recorded the outcome, then died
    queue = worker.queue_class(job.origin, connection=connection, serializer=worker.serializer)
    execution = Execution(running.execution_id, job.id, connection, worker_name=worker.name)
    execution.created_at = job.started_at or now()
    duration = time.time() - running.started
    task = task_of(job)
    if reason == HANDBACK:
        with connection.pipeline() as pipe:
            worker.cleanup_execution(job, pipeline=pipe, execution=execution)
            job.set_status(JobStatus.QUEUED, pipeline=pipe)
            queue.push_job_id(job.id, pipeline=pipe, at_front=True)
            pipe.execute()
        log.warning("job %s handed back to %s: the worker is shutting down", job.id, queue.name)
        return
    if worker.stopped_job_id == job.id:
        worker.handle_stopped_job(job, queue, execution)
        hooks.emit(JobEvent("stopped", job, task, queue.name, duration))
        return
    reason = reason or (
        f"the work horse running the job ended with {describe_exit(status)} (os._exit, a crash or the OOM killer)"
    )
    log.warning("job %s failed: %s", job.id, reason)
    job.ended_at = now()
    error = HorseLost(reason)
    for handler in worker.rq_exception_handlers:
        try:
            if not handler(job, HorseLost, error, None):
                break
        except Exception:
            log.exception("exception handler failed for job %s", job.id)
    worker.handle_job_failure(job, queue=queue, exc_string=f"HorseLost: {reason}", execution=execution)
    retrying = job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.SCHEDULED)
    hooks.emit(JobEvent("retrying" if retrying else "failed", job, task, queue.name, duration, str(error)))
