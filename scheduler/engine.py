"""The scheduler process's loop: lead, fire due scheduled tasks, move due delayed jobs, report liveness.

Why not rq-scheduler's ``rqscheduler`` process: it scores jobs in whole seconds and fires up to a
second early, polls every 60 s by default, releases its lock without an owner check, and reads cron in
the process's local time zone with a 6th field meaning "year". Instead:

- **Scheduled tasks** (``scheduler/store.py``) sit in a sorted set scored by their next run with
  sub-second precision. The leader sleeps until the soonest one is due (at most ``SCHEDULER_TICK``) and
  fires it only once the clock has reached it: never early, late by the loop's latency.
- **Never twice.** A firing enqueues an RQ job with a deterministic id per occurrence and RQ's
  ``unique=True``, then advances the due entry with a compare-and-set. A second leader (after a lease
  hand-over or a pause) finds the job already exists and only advances. A crash between the two steps
  re-fires the same occurrence id, which RQ refuses: no loss, no duplicate.
- **Missed occurrences are coalesced**: after downtime a recurring task fires once, late, and its next
  run is the first occurrence after now (like APScheduler's ``coalesce``). Runs that would overlap a run
  still pending or running are skipped and recorded, unless the task allows overlap.
- **Delayed jobs and RQ ``Retry`` intervals** stay in RQ's ``ScheduledJobRegistry`` of their queue (any
  queue, not only ``QUEUES``) with millisecond scores (``jobs/delayed.py``) and are moved on their due
  time by ``scheduler/delayed_jobs.py`` (RQ's own moving code) under our lease, so exactly one process
  moves them and a follower takes over within one lease (``SCHEDULER_LEASE``) instead of RQ's 61 s lock.
- **rq-scheduler's jobs** (``rq:scheduler:scheduled_jobs``: ``enqueue_at/enqueue_in``, interval and cron
  jobs) are moved by ``scheduler/rq_scheduler_jobs.py`` under the same lease, never early, never twice,
  and an ``rqscheduler`` process running beside ours finds rq-scheduler's lock taken.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job, JobStatus
from rq.utils import as_text

from jobs import keys
from jobs.maintenance.alerts import alert_missed
from jobs.registry import UnknownTask, registry
from jobs.settings import Settings
from scheduler import declared, delayed_jobs, health
from scheduler.cron import ScheduleError
from scheduler.executions import ExecutionLog
from scheduler.leader import Lease
from scheduler.liveness import Liveness
from scheduler.rq_scheduler_jobs import RqSchedulerJobs
from scheduler.runner import build_run, enqueue_runs, job_id_for
from scheduler.store import TaskStore
from scheduler.tasks import Task, ms

log = logging.getLogger("taskyard.scheduler")

MISSED_CHECK_EVERY = 5.0  # seconds between missed-schedule checks by the leader
ERROR_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0)  # waits after consecutive Redis errors, then the last repeats
PENDING_STATUSES = {
    status.value
    for status in (
        JobStatus.QUEUED,
        JobStatus.STARTED,
        JobStatus.SCHEDULED,
        JobStatus.DEFERRED,
        JobStatus.CREATED,
    )
}


class Engine:
    """One scheduler process. :meth:`tick` is one pass; :meth:`run` loops until ``stop`` is set."""

    def __init__(
        self,
        connection: Redis,
        settings: Settings,
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.name = name or f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.lease = Lease(connection, keys.SCHEDULER_LEADER, self.name, settings.scheduler.lease)
        self.tasks = TaskStore(connection, settings.scheduler.missed_grace)
        self.history = ExecutionLog(connection)
        self.leading = False
        self.synced = False
        self.last_pass_ms = 0.0
        self.liveness = Liveness(connection, self.name)
        self._last_missed_check = 0.0
        self._queues: dict[str, Queue] = {}
        self.rq_scheduler = RqSchedulerJobs(connection, self.name, settings.scheduler.lease)
        self.queue_locks = delayed_jobs.QueueLocks(connection, self.name, settings.scheduler.lease)
        self._delayed_queues: list[str] = list(settings.worker.queues)

    # --- one pass ----------------------------------------------------------------------------------
    def tick(self) -> float:
        """One pass; returns how long to wait before the next one."""
        started = time.perf_counter()
        if not self.synced:
            self.synced = declared.sync(self.connection, registry, self.settings, self.now()) is not None
        was_leading = self.leading
        self.leading = self.lease.hold()
        if self.leading != was_leading:
            log.info("scheduler %s %s leadership", self.name, "took" if self.leading else "lost")
        if self.leading:
            if self.settings.scheduler.enabled:
                self.fire_due()
            self.move_delayed_jobs()
            self.check_missed()
        self.last_pass_ms = (time.perf_counter() - started) * 1000
        self.heartbeat()
        if not self.leading:
            return min(1.0, self.settings.scheduler.lease / 5)
        return self.wait_for_next()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def wait_for_next(self) -> float:
        """Sleep until the soonest due task or delayed job, but no longer than SCHEDULER_TICK (new ones
        may arrive)."""
        dues = [
            delayed_jobs.next_due(self.connection, self._delayed_queues),
            self.rq_scheduler.next_due(),
            self.tasks.next_due() if self.settings.scheduler.enabled else None,
        ]
        soonest = min((due for due in dues if due is not None), default=None)
        tick = self.settings.scheduler.tick
        return tick if soonest is None else max(0.0, min(tick, soonest - self.clock()))

    def fire_due(self) -> int:
        """Fire every task due now; returns how many runs were enqueued."""
        due = self.tasks.due(self.clock())
        return self.fire_batch(due) if due else 0

    def fire(self, task_id: str, score: float) -> int:
        """Fire the occurrence ``score`` (epoch seconds) of one task; 1 if a run was enqueued."""
        return self.fire_batch([(task_id, score)])

    def fire_batch(self, due: list[tuple[str, float]]) -> int:
        """Fire occurrences (task id, epoch seconds) in a few round trips: read the tasks, check
        overlaps, enqueue every run, then advance every due entry. Returns the runs enqueued."""
        now = self.clock()
        now_dt = datetime.fromtimestamp(now, UTC)
        tasks = {task.id: task for task in self.tasks.get_many([task_id for task_id, _ in due])}
        busy = self._busy(
            {t.id: t for t in tasks.values() if t.current_job and not t.definition.allow_overlap}
        )
        advances: list[tuple[str, float, datetime | None]] = []
        runs: list[tuple[str, float, datetime | None, float, Queue, Job]] = []
        for task_id, score in due:
            task = tasks.get(task_id)
            if task is None or task.status == "paused":
                advances.append((task_id, score, None))
                continue
            try:
                schedule = task.schedule(now_dt)
                registry.get(task.definition.handler)
            except (ScheduleError, UnknownTask) as error:
                log.error("task %s cannot fire: %s", task.definition.name, error)
                advances.append((task_id, score, None))
                self.tasks.set_status(
                    task_id, "failed", lastExecution=json.dumps({"status": "failed", "error": str(error)})
                )
                continue
            occurrence = datetime.fromtimestamp(score, UTC)
            next_run = None
            if task.definition.recurring and schedule.recurring:
                next_run = schedule.next_after(max(occurrence, now_dt))
            lateness = (now - score) * 1000
            job_id = job_id_for(task.id, score)
            if task_id in busy:
                self._record_skip(task, job_id, score, lateness)
                advances.append((task_id, score, next_run))
                continue
            queue, job = build_run(
                self.connection,
                self.settings,
                task,
                job_id,
                occurrence_ms=ms(occurrence),
                lateness_ms=round(lateness, 3),
                queues=self._queues,
            )
            runs.append((task_id, score, next_run, lateness, queue, job))
        created = enqueue_runs(self.connection, [(queue, job) for *_, queue, job in runs])
        fired = 0
        with self.connection.pipeline(transaction=False) as pipe:
            for (task_id, score, next_run, lateness, _queue, job), new in zip(runs, created, strict=True):
                if new:
                    self.tasks.set_fields(task_id, pipe=pipe, currentJob=job.id)
                    self.liveness.fired_one(lateness)
                    fired += 1
                advances.append((task_id, score, next_run))
            for task_id, score, next_run in advances:
                self.tasks.advance(task_id, score, next_run, pipe=pipe)
            pipe.execute()
        return fired

    def _busy(self, candidates: dict[str, Task]) -> set[str]:
        """Ids of tasks whose previous run is still pending or running (one round trip)."""
        if not candidates:
            return set()
        with self.connection.pipeline(transaction=False) as pipe:
            for task in candidates.values():
                pipe.hget(Job.key_for(task.current_job or ""), "status")
            statuses = pipe.execute()
        busy = set()
        for task, raw in zip(candidates.values(), statuses, strict=True):
            if raw is not None and as_text(raw) in PENDING_STATUSES:
                busy.add(task.id)
            elif task.status == "running":  # the worker died mid-run: RQ's cleanup fails or retries it
                self.tasks.set_status(task.id, "active", currentJob="")
        return busy

    def _record_skip(self, task: Task, job_id: str, score: float, lateness: float) -> None:
        self.history.record(
            task.id,
            {
                "id": f"{job_id}-skipped",
                "taskId": task.id,
                "jobId": None,
                "status": "skipped",
                "startTime": ms(datetime.fromtimestamp(self.clock(), UTC)),
                "duration": 0,
                "error": f"previous run {task.current_job} still running",
                "result": None,
                "attempt": 0,
                "occurrence": int(score * 1000),
                "lateness": round(lateness, 3),
            },
        )

    def move_delayed_jobs(self) -> int:
        """Put due delayed jobs (RQ's registries of every queue, rq-scheduler's store) on their queues."""
        known = set(self.settings.worker.queues) | set(delayed_jobs.queue_names(self.connection))
        self._delayed_queues = self.queue_locks.hold(sorted(known))
        now = self.clock()
        return delayed_jobs.move_due(self.connection, now, self._delayed_queues) + self.rq_scheduler.move_due(
            now
        )

    def check_missed(self) -> None:
        """Every MISSED_CHECK_EVERY seconds, alert (once per ALERT_WINDOW) on tasks past their deadline."""
        now = self.clock()
        if now - self._last_missed_check < MISSED_CHECK_EVERY:
            return
        self._last_missed_check = now
        overdue = health.missed(self.connection, datetime.fromtimestamp(now, UTC))
        if not overdue:
            return
        tasks = {task.id: task for task in self.tasks.get_many([task_id for task_id, _ in overdue])}
        for task_id, _ in overdue:
            if task_id not in tasks:
                health.expect(self.connection, task_id, None)  # deleted meanwhile
        missed = [(tid, tasks[tid].definition.name, due.timestamp()) for tid, due in overdue if tid in tasks]
        alert_missed(self.connection, self.settings, missed, now)

    # --- liveness ----------------------------------------------------------------------------------
    def heartbeat(self, force: bool = False) -> None:
        """Report liveness (``scheduler/liveness.py``): at most every second unless ``force``."""
        self.liveness.report(
            self.clock(),
            leading=self.leading,
            last_pass_ms=self.last_pass_ms,
            scheduling_enabled=self.settings.scheduler.enabled,
            force=force,
        )

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set; Redis errors are logged and retried with backoff, never fatal."""
        failures = 0
        while not stop.is_set():
            try:
                wait = self.tick()
                if failures:
                    log.info("scheduler %s: Redis answers again", self.name)
                failures = 0
            except RedisError as error:
                wait = ERROR_BACKOFF[min(failures, len(ERROR_BACKOFF) - 1)]
                if failures == 0:
                    log.warning("scheduler %s: Redis error (%s); retrying with backoff", self.name, error)
                failures += 1
                self.leading = False
            if wait > 0:
                stop.wait(wait)
        self.shutdown()

    def shutdown(self) -> None:
        """Hand leadership over at once and withdraw our liveness report."""
        try:
            self.rq_scheduler.release()
            self.queue_locks.release()
            if self.lease.release():
                log.info("scheduler %s released leadership", self.name)
            self.liveness.withdraw()
        except RedisError:
            pass
