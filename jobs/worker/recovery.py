"""Abandoned jobs found in seconds, not minutes: the recovery half of the lean worker (:mod:`jobs.worker.round_trips`).

A started job's execution expires ``abandon_after`` seconds after its last heartbeat (sent every
``job_monitoring_interval``, whole seconds: Redis refuses a fractional ``EXPIRE``), and maintenance runs every ``maintenance_interval`` seconds under a lock
that lapses in ``abandon_after`` (RQ's lapses in 899 s). A job whose worker died is retried or failed
(``AbandonedJobError``) within about ``abandon_after + maintenance_interval`` seconds (RQ: minutes). A
job popped but never started goes back to the front of its queue after ``abandon_after`` seconds: it
never ran, so no retry is used up.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.utils import now

from jobs.worker.queue_scripts import REQUEUE_STUCK
from jobs.worker.round_trips import REDIS_DOWN
from jobs.worker.rq_compat import WorkerInternals, clean_registries, clean_worker_registry

log = logging.getLogger("taskyard.worker")


class RecoveryMixin(WorkerInternals):
    """Mix into an RQ worker class, before it (see the module docstring)."""

    abandon_after = 10  # seconds without a heartbeat after which a started job is abandoned

    connection: Any
    queues: list[Queue]
    name: str
    last_cleaned_at: Any

    def __init__(self, *args: Any, abandon_after: int | None = None, **kwargs: Any) -> None:
        if abandon_after is not None:
            self.abandon_after = abandon_after
        kwargs.setdefault("job_monitoring_interval", max(1, int(self.abandon_after) // 4))
        kwargs.setdefault("maintenance_interval", max(1, self.abandon_after // 2))
        super().__init__(*args, **kwargs)
        self.job_monitoring_interval: int = max(1, math.ceil(self.job_monitoring_interval))

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        """Seconds a started job's execution lives without a heartbeat: ``abandon_after``."""
        return int(self.abandon_after)

    def run_maintenance_tasks(self) -> None:
        try:
            super().run_maintenance_tasks()  # type: ignore[misc]
        except REDIS_DOWN:
            log.warning("worker %s: Redis unreachable during maintenance", self.name)

    def clean_registries(self) -> None:
        """RQ's registry cleanup under a short lock, then putting never-started pops back."""
        for queue in self.queues:
            if not self.connection.set(queue.registry_cleaning_key, 1, nx=True, ex=int(self.abandon_after)):
                continue
            clean_registries(queue, self.rq_exception_handlers)
            clean_worker_registry(queue)
            self._requeue_stuck_pops(queue)
            queue.release_maintenance_lock()
        self.last_cleaned_at = now()

    def _requeue_stuck_pops(self, queue: Queue) -> None:
        intermediate = queue.intermediate_queue
        started = StartedJobRegistry(queue.name, connection=self.connection)
        for job_id in intermediate.get_job_ids():
            job = queue.fetch_job(job_id)
            if job is None or job.get_status(refresh=False) != JobStatus.QUEUED:
                intermediate.remove(job_id)  # started since (or gone): not ours to recover
                continue
            if job_id in started:
                continue
            seen_key = intermediate.get_first_seen_key(job_id)
            if self.connection.set(seen_key, time.time(), nx=True, ex=3600):
                continue
            if time.time() - float(self.connection.get(seen_key) or time.time()) >= self.abandon_after:
                log.warning("job %s was popped but never started; putting it back on %s", job_id, queue.name)
                self.connection.eval(REQUEUE_STUCK, 2, intermediate.key, queue.key, job_id)
                self.connection.delete(seen_key)
