"""Two or three Redis round trips per job instead of twenty.

A mixin for RQ worker classes. RQ 3's worker spends ~20 round trips on a no-op job, most of them
bookkeeping: three unpipelined heartbeats of three commands each, ``idle`` written twice, a suspension
check, a job heartbeat before the result, and a WATCH/read/MULTI dance to find dependents. Every record
RQ keeps is still written here, in three round trips:

1. **pop**: one Lua call moves the next id to its queue's intermediate list (``LMOVE``, in queue
   priority order) and returns the job hash. A worker that dies right after still leaves the id in a
   list (RQ uses a bare ``LPOP`` when a worker listens on several queues);
2. **start**: RQ's execution record, started registry entry, worker state and job status in one
   transaction (RQ: two, written by two processes);
3. **finish**: result, registries, counters and execution cleanup in one transaction that also reads
   the job's dependents and its status before the write (a job canceled while it ran keeps its
   dependents deferred). Reading them inside the same MULTI as the status change is as safe as RQ's
   WATCH: an enqueuer that added a dependent before it sees it enqueued by us, one after sees the job
   finished. Dependents, if any, are then enqueued by RQ's own ``enqueue_dependents``.

While jobs flow, a worker that will go on taking jobs (:meth:`LeanRoundTripsMixin.prefetch_wanted`)
puts the pop of its next job into that same finish transaction, so a busy worker makes two round trips
per job. A prefetched job is an ordinary pop: its id waits in the intermediate list until it starts. A
worker that stops before starting it hands it back to the front of its queue (:meth:`hand_back`); one
killed first leaves it to the recovery in :mod:`jobs.worker.recovery`. Prefetching pauses whenever the
suspension check is due, so ``rq suspend`` is still noticed within a second.

The worker's own heartbeat and the suspension check go out at most every ``quiet_interval`` seconds,
and ``idle`` is written only when the worker blocks. When every queue is empty the worker blocks on
``BLMOVE`` (one queue) or ``BLPOP`` (several; the one spot where a worker killed between the pop and
the next round trip loses an id) for at most one second at a time, so it notices a stop request fast.

Abandoned jobs are found in seconds by :class:`jobs.worker.recovery.RecoveryMixin`, mixed in beside this one.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import redis
from rq import Queue
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.utils import as_text, get_version, now

from jobs.worker.queue_scripts import POP_AND_READ, REQUEUE_STUCK, read_popped
from jobs.worker.rq_compat import (
    INTERMEDIATE_SUFFIX,
    JOB_STATUS_FIELD,
    WorkerInternals,
    WorkerStatus,
    handle_success,
    has_callbacks,
    mark_finished,
    release_slot,
)

log = logging.getLogger("taskyard.worker")

# Waited out with backoff, never fatal: Redis unreachable, or full (``maxmemory`` reached: writes are
# refused until memory is freed). A worker that crashed on them would be respawned every second.
REDIS_DOWN = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.OutOfMemoryError,
)
BLOCK_SECONDS = 1  # longest single blocking pop: a stop request is noticed within this


class LeanRoundTripsMixin(WorkerInternals):
    """Mix into an RQ worker class, before it (see the module docstring)."""

    quiet_interval = 1.0  # seconds between the worker's own heartbeats and suspension checks
    max_connection_wait_time = 2.0  # longest pause between reconnection attempts (RQ: 60 s)

    connection: Any
    queues: list[Queue]
    name: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reset_round_trips()

    def reset_round_trips(self) -> None:
        """Start with no prefetched job, no script loaded, and heartbeat and suspension checks due."""
        self._quiet_until = 0.0
        self._suspension_checked = 0.0
        self._started_job_id: str | None = None
        self._pop_script: Any = None
        self._prefetched: tuple[str, str, dict[bytes, bytes]] | None = None

    # --- 1. pop ---------------------------------------------------------------------------------
    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        """The next job, or ``None`` when the queues are empty in burst mode (``timeout`` None), after
        ``timeout`` seconds, or once a stop is requested. Redis outages are waited out with backoff."""
        pause = 0.25
        deadline = None if timeout is None else time.monotonic() + timeout
        idle = False
        while True:
            try:
                self.heartbeat()
                if self.should_run_maintenance_tasks:  # type: ignore[attr-defined]
                    self.run_maintenance_tasks()  # type: ignore[attr-defined]
                if self._prefetched is not None:
                    prefetched, self._prefetched = self._prefetched, None
                    return self._job_from(*prefetched)
                popped = self._pop_ready()
                if popped is not None or timeout is None or self.stop_requested:
                    return popped
                if not idle:
                    self.set_state(WorkerStatus.IDLE)
                    self.procline("Listening on " + ",".join(q.name for q in self.queues))  # type: ignore[attr-defined]
                    self.before_idle()
                    idle = True
                popped = self._block_for_job()
                if popped is not None:
                    return popped
                pause = 0.25
            except REDIS_DOWN as error:
                log.error("worker %s: Redis unreachable (%s), retrying in %.2fs", self.name, error, pause)
                time.sleep(pause)
                pause = min(pause * 2, self.max_connection_wait_time)
            if self.stop_requested or (deadline is not None and time.monotonic() >= deadline):
                return None

    def before_idle(self) -> None:
        """Called once each time the worker finds its queues empty, before it blocks waiting."""

    def _pop_ready(self) -> tuple[Job, Queue] | None:
        if get_version(self.connection) < (6, 2, 0):
            return self._from_rq(None)
        if self._pop_script is None:
            self._pop_script = self.connection.register_script(POP_AND_READ)
        keys = [q.key for q in self.ordered_queues]
        popped = read_popped(self._pop_script(keys=keys, args=[Job.redis_job_namespace_prefix]))
        return None if popped is None else self._job_from(*popped)

    def prefetch_wanted(self) -> bool:
        """Whether the worker will take another job right after this one: then its pop rides along with
        the finish. Subclasses add their own reasons to stop (recycling, a dead parent)."""
        return (
            self._pop_script is not None
            and not self.stop_requested
            and time.monotonic() - self._suspension_checked < self.quiet_interval
        )

    def hand_back(self) -> None:
        """Put a prefetched job that will not run here back at the front of its queue."""
        if self._prefetched is None:
            return
        queue_key, job_id, _ = self._prefetched
        self._prefetched = None
        self.connection.eval(REQUEUE_STUCK, 2, queue_key + INTERMEDIATE_SUFFIX, queue_key, job_id)

    def _block_for_job(self) -> tuple[Job, Queue] | None:
        keys = [q.key for q in self.ordered_queues]
        if len(keys) == 1 and get_version(self.connection) >= (6, 2, 0):
            job_id = self.connection.blmove(keys[0], keys[0] + INTERMEDIATE_SUFFIX, BLOCK_SECONDS)
            queue_key = keys[0]
        else:
            popped = self.connection.blpop(keys, BLOCK_SECONDS)
            if popped is None:
                return None
            queue_key, job_id = as_text(popped[0]), popped[1]
            self.connection.rpush(queue_key + INTERMEDIATE_SUFFIX, job_id)
        if job_id is None:
            return None
        raw = self.connection.hgetall(Job.redis_job_namespace_prefix + as_text(job_id))
        if not raw:
            self.connection.lrem(queue_key + INTERMEDIATE_SUFFIX, 1, job_id)
            return None
        return self._job_from(queue_key, as_text(job_id), raw)

    def _from_rq(self, timeout: int | None) -> tuple[Job, Queue] | None:
        return self.queue_class.dequeue_any(  # type: ignore[attr-defined]
            self.ordered_queues,
            timeout,
            connection=self.connection,
            job_class=self.job_class,  # type: ignore[attr-defined]
        )

    def _job_from(self, queue_key: str, job_id: str, raw: dict[bytes, bytes]) -> tuple[Job, Queue]:
        queue = next(q for q in self.ordered_queues if q.key == queue_key)
        job = self.job_class(job_id, connection=self.connection, serializer=self.serializer)  # type: ignore[attr-defined]
        job.restore(raw)
        self.reorder_queues(reference_queue=queue)  # type: ignore[attr-defined]
        return job, queue

    # --- 2. start -------------------------------------------------------------------------------
    def start_execution(self, job: Job, queue: Queue) -> Execution:
        """RQ's ``prepare_execution`` and ``prepare_job_execution`` in one transaction."""
        ttl = self.get_heartbeat_ttl(job)  # type: ignore[attr-defined]
        with self.connection.pipeline() as pipe:
            execution = Execution.create(job, ttl, pipeline=pipe, worker_name=self.name)
            self.executions[execution.id] = execution  # type: ignore[attr-defined]
            self.set_state(WorkerStatus.BUSY, pipeline=pipe)
            self.heartbeat(pipeline=pipe)  # the worker key keeps its long TTL; the execution gets `ttl`
            job.prepare_for_execution(self.name, pipeline=pipe)
            pipe.persist(job.key)
            pipe.lrem(queue.intermediate_queue_key, 1, job.id)
            pipe.execute()
        self._started_job_id = job.id
        return execution

    def prepare_job_execution(self, job: Job, remove_from_intermediate_queue: bool = False) -> None:
        if self._started_job_id == job.id:  # start_execution did it
            return
        super().prepare_job_execution(job, remove_from_intermediate_queue=True)  # type: ignore[misc]

    # --- 3. finish ------------------------------------------------------------------------------
    def handle_execution_ended(self, job: Job, queue: Queue, heartbeat_ttl: int) -> None:
        if has_callbacks(job):
            super().handle_execution_ended(job, queue, heartbeat_ttl)  # type: ignore[misc]
            return
        job.ended_at = now()

    def handle_job_success(
        self, job: Job, queue: Queue, started_job_registry: StartedJobRegistry, execution: Execution
    ) -> None:
        result_ttl = job.get_result_ttl(self.default_result_ttl)  # type: ignore[attr-defined]
        if result_ttl == 0 or (job.repeats_left is not None and job.repeats_left > 0):
            super().handle_job_success(job, queue, started_job_registry, execution)  # type: ignore[misc]
            return
        assert job.started_at and job.ended_at
        prefetch = self.prefetch_wanted()
        with self.connection.pipeline() as pipe:
            pipe.hget(job.key, JOB_STATUS_FIELD)  # read before this transaction overwrites it
            pipe.smembers(job.dependents_key)
            self.increment_successful_job_count(pipeline=pipe)  # type: ignore[attr-defined]
            self.increment_total_working_time(job.ended_at - job.started_at, pipe)  # type: ignore[attr-defined]
            handle_success(job, result_ttl, pipe, self.name, execution)
            job.cleanup(result_ttl, pipeline=pipe, remove_from_queue=False)
            mark_finished(job)
            self.cleanup_execution(job, pipeline=pipe, execution=execution)  # type: ignore[attr-defined]
            if prefetch:
                keys = [q.key for q in self.ordered_queues]
                pipe.evalsha(self._pop_script.sha, len(keys), *keys, Job.redis_job_namespace_prefix)
            replies = pipe.execute(raise_on_error=False)
        for reply in replies[: len(replies) - prefetch]:
            if isinstance(reply, Exception):
                raise reply
        if prefetch and not isinstance(replies[-1], Exception):  # NOSCRIPT after a Redis restart: no prefetch
            self._prefetched = read_popped(replies[-1])
        status, dependents = replies[0], replies[1]
        # A job canceled (or stopped) while it ran keeps its dependents deferred, as RQ's worker does.
        if dependents and as_text(status) not in (JobStatus.CANCELED, JobStatus.STOPPED):
            queue.enqueue_dependents(job)
        release_slot(job)

    # --- quieter bookkeeping --------------------------------------------------------------------
    def heartbeat(self, timeout: float | None = None, pipeline: Any = None) -> None:
        """RQ's heartbeat, at most every ``quiet_interval``; a TTL is whole seconds (Redis refuses a
        fractional ``EXPIRE``)."""
        if timeout is not None:
            timeout = math.ceil(timeout)
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)  # type: ignore[misc]
            return
        if timeout is None and time.monotonic() < self._quiet_until:
            return
        with self.connection.pipeline() as pipe:
            super().heartbeat(timeout, pipeline=pipe)  # type: ignore[misc]
            pipe.execute()
        self._quiet_until = time.monotonic() + self.quiet_interval

    def set_state(self, state: str, pipeline: Any = None) -> None:
        if pipeline is None and state == self.cached_state:
            return
        super().set_state(state, pipeline=pipeline)  # type: ignore[misc]

    def check_for_suspension(self, burst: bool) -> None:
        if time.monotonic() - self._suspension_checked < self.quiet_interval:
            return
        try:
            super().check_for_suspension(burst)  # type: ignore[misc]
        except REDIS_DOWN:
            log.warning("worker %s: Redis unreachable while checking for suspension", self.name)
            return
        self._suspension_checked = time.monotonic()
