"""A worker whose job-running child lives for many jobs: fork isolation at in-process speed.

RQ's ``Worker`` forks a work horse per job (isolation, ~10 ms a job); ``SimpleWorker`` runs jobs in the
worker itself (fast, but a job that calls ``os._exit``, leaks or hangs in C code takes the worker with
it). Here the two roles are two objects:

* the **horse**, a child forked once, is a :class:`~jobs.worker.horse.PreforkHorse` (RQ's ``SimpleWorker``
  with the lean round trips of :mod:`jobs.worker.round_trips`) made from the worker after the fork; it
  runs the job steps (pop, start, ``perform_job``, finish) for many jobs (:mod:`jobs.worker.horse` says
  when a horse is recycled and how its memory is capped). It writes which job it runs into a few bytes
  of memory shared with its parent (:mod:`jobs.worker.horse_state`: no system call, no round trip per job);
* the **worker**, :class:`PreforkWorker` (the parent, an RQ ``Worker`` registered in Redis under its
  name; this module), supervises: it sleeps until the horse dies or a deadline passes, heartbeats jobs that run long, kills
  a horse whose job outlives its timeout by ``kill_grace`` seconds (stuck in C code, deaf to RQ's
  SIGALRM), and starts a new horse whenever the old one is gone.

A job whose horse died (``os._exit``, a signal, the OOM killer, the kill above) fails with a
``HorseLost`` reason, or is retried under its retry policy (:mod:`jobs.worker.horse_loss`); the next job
gets a fresh horse.

SIGTERM (a dyno restart): the worker asks the horse to stop taking jobs; the running job may finish
for ``shutdown_grace`` seconds, after which the horse is killed and the job handed back to the front
of its queue (it did not fail; no retry is used). A second SIGTERM/SIGINT kills the horse at once.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import signal
import time
from typing import Any

from rq import Queue, Worker
from rq.executions import Execution
from rq.job import Job

from jobs.worker.horse import HORSE_OPTIONS, PreforkHorse
from jobs.worker.horse_loss import HANDBACK, settle
from jobs.worker.horse_state import EXIT_DONE, Running, Slot
from jobs.worker.recovery import RecoveryMixin
from jobs.worker.round_trips import REDIS_DOWN
from jobs.worker.rq_compat import DequeueStrategy, WorkerStatus, job_id_of_execution

log = logging.getLogger("taskyard.worker")

BEAT_SLACK = 0.01  # seconds early a heartbeat may go out (a select() wake-up is not exact)


class PreforkWorker(RecoveryMixin, Worker):
    """An RQ ``Worker`` that supervises one long-lived horse (see the module docstring). It is what RQ
    and Redis see as the worker (registered under its name, stop commands, signals); the horse, a
    :attr:`horse_class` made from it in the forked child, runs the jobs.

    Called directly (RQ's API, ``execute_job``), :meth:`perform_job` and :meth:`dequeue_job_and_maintain_ttl`
    run on a horse made from this worker, in this process, so they behave as they do in the horse."""

    kill_grace = 2.0  # seconds past a job's timeout before the worker kills a horse deaf to SIGALRM
    shutdown_grace = 25.0  # seconds a running job gets after SIGTERM (Heroku kills at 30)
    max_connection_wait_time = 2.0  # longest pause between attempts to register with Redis (RQ: 60 s)
    horse_class: type[PreforkHorse] = PreforkHorse  # what runs the jobs in the forked child

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for option in ("kill_grace", "shutdown_grace"):
            if option in kwargs:
                setattr(self, option, kwargs.pop(option))
        self.horse_options = {o: kwargs.pop(o) for o in HORSE_OPTIONS if o in kwargs}
        super().__init__(*args, **kwargs)
        self._slot = Slot()  # what the horse runs, shared with it (created before any fork)
        self._death_fd = -1
        self._kill_reason: str | None = None
        self._stop_deadline: float | None = None
        self._beat_job: Job | None = None
        self._long_ids: dict[str, str] = {}  # execution id -> a job id too long for the slot
        self._next_beat: tuple[str, float] = ("", 0.0)  # (execution id, when its next heartbeat is due)
        self._judged = 0  # jobs whose horse ended mid-job (they count as processed, as in RQ)

    def make_horse(self) -> PreforkHorse:
        """A horse with this worker's configuration and :attr:`horse_options` (see
        :meth:`~jobs.worker.horse.PreforkHorse.from_worker`)."""
        return self.horse_class.from_worker(self, **self.horse_options)

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        return bool(self.make_horse().perform_job(job, queue, execution))

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        return self.make_horse().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

    def work(self, burst: bool = False, logging_level: str | None = None, *args: Any, **kwargs: Any) -> bool:
        """Register, then keep one horse running jobs until stopped (or, in burst mode, drained).

        Takes RQ's ``work`` arguments; ``max_jobs``, ``max_idle_time`` (checked every couple of seconds)
        and ``dequeue_strategy`` are honoured, and ``with_scheduler`` is ignored: the scheduler process
        moves delayed jobs."""
        strategy = kwargs.get("dequeue_strategy") or DequeueStrategy.DEFAULT
        if strategy not in tuple(DequeueStrategy):
            raise ValueError(f"unknown dequeue strategy {strategy!r}")
        self.set_dequeue_strategy(strategy)
        self._bootstrap(logging_level or "INFO")
        self.install_signal_handlers()
        max_jobs = kwargs.get("max_jobs")
        max_idle_time = kwargs.get("max_idle_time")
        try:
            while True:
                if not self.horse_pid:
                    if self.stop_requested:
                        break
                    self._start_horse(burst, max_jobs, max_idle_time)
                status = self._supervise()
                if status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_DONE:
                    break
        finally:
            self._cold_stop()
            self.teardown()
        return self._slot.read()[0] + self._judged > 0

    def _bootstrap(self, logging_level: str) -> None:
        """RQ's ``bootstrap`` (register, subscribe), waiting out an unreachable or full Redis: a worker
        that raised here would be respawned by the pool every second, a crash loop."""
        pause = 0.25
        while True:
            try:
                self.bootstrap(logging_level)
                return
            except REDIS_DOWN as error:
                log.error("worker %s: cannot register (%s), retrying in %.2fs", self.name, error, pause)
            with contextlib.suppress(*REDIS_DOWN):
                self.connection.delete(self.key)  # a half-done registration must not block the retry
            time.sleep(pause)
            pause = min(pause * 2, self.max_connection_wait_time)

    def _cold_stop(self) -> None:
        """Kill a horse still running (a second SIGTERM, an error) and hand its job back."""
        if not self.horse_pid:
            return
        _, running = self._slot.read()
        self.kill_horse()
        status = self._reap(block=True)
        if running is not None:
            settle(self, running, status or 0, HANDBACK)

    def _start_horse(self, burst: bool, max_jobs: int | None, max_idle_time: int | None) -> None:
        read_end, write_end = os.pipe()  # the horse holds write_end: EOF here means it is gone
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            code = 1
            try:
                code = self.make_horse().run(self._slot, parent, burst, max_jobs, max_idle_time)
            except BaseException:
                log.exception("work horse crashed")
            os._exit(code)
        os.close(write_end)
        self._death_fd = read_end
        self.set_horse_pid(pid)
        self._kill_reason = None
        self.procline(f"Supervising horse {pid}")

    def _supervise(self) -> int | None:
        """Wait for the horse to die or a deadline; return its exit status once it is gone."""
        _, running = self._slot.read()
        wait = float(self.job_monitoring_interval)
        if running is not None:
            wait = min(wait, self._beat_due(running) - time.time())
            if running.timeout > 0:
                wait = min(wait, running.started + running.timeout + self.kill_grace - time.time())
        if self._stop_deadline is not None:
            wait = min(wait, self._stop_deadline - time.monotonic())
        try:
            dead = bool(select.select([self._death_fd], [], [], max(0.0, wait))[0])
        except InterruptedError:
            dead = False
        if dead:
            status = self._reap(block=True)
            _, running = self._slot.read()
            if running is not None:
                settle(self, running, status or 0, self._kill_reason)
                self._judged += 1
                self._slot.finish(self._slot.read()[0])
                self.set_state(WorkerStatus.IDLE)  # the horse wrote "busy": idle until the next horse works
            return status
        _, running = self._slot.read()
        if running is None:
            return None
        if running.timeout > 0 and time.time() > running.started + running.timeout + self.kill_grace:
            self._kill_reason = f"job exceeded its timeout of {running.timeout:g}s and did not stop; its work horse was killed"
            self.kill_horse()
        elif self._stop_deadline is not None and time.monotonic() >= self._stop_deadline:
            self._kill_reason = HANDBACK
            self.kill_horse()
        elif time.time() >= self._beat_due(running) - BEAT_SLACK:
            self._beat(running)
            self._next_beat = (running.execution_id, time.time() + self.job_monitoring_interval)
        return None

    def _beat_due(self, running: Running) -> float:
        """When the running job's next heartbeat is due: every ``job_monitoring_interval`` from its start."""
        execution_id, due = self._next_beat
        if execution_id != running.execution_id:
            return running.started + self.job_monitoring_interval
        return due

    def job_id_of(self, running: Running) -> str | None:
        """The id of the job the horse runs: from the slot, or, for an id too long for it, from this
        worker's executions set in Redis (members are ``<job id>:<execution id>``). None if not found."""
        if running.job_id is not None:
            return running.job_id
        if running.execution_id in self._long_ids:
            return self._long_ids[running.execution_id]
        job_id = job_id_of_execution(self.connection.smembers(self.executions_key), running.execution_id)
        if job_id is not None:
            self._long_ids = {running.execution_id: job_id}
        return job_id

    def _beat(self, running: Running) -> None:
        """Heartbeat a long job's execution, as RQ's worker does while its horse works."""
        try:
            job_id = self.job_id_of(running)
            if job_id is None:
                log.warning("worker %s: execution %s is not registered", self.name, running.execution_id)
                return
            if self._beat_job is None or self._beat_job.id != job_id:
                self._beat_job = self.job_class.fetch(
                    job_id, connection=self.connection, serializer=self.serializer
                )
            execution = Execution(running.execution_id, job_id, self.connection, worker_name=self.name)
            self.maintain_heartbeats(self._beat_job, execution)
        except Exception:
            log.warning(
                "worker %s: could not heartbeat execution %s", self.name, running.execution_id, exc_info=True
            )

    def request_stop(self, signum: int, frame: Any) -> None:
        """Warm shutdown: the horse finishes its job (within ``shutdown_grace``) and takes no other."""
        self.note_shutdown_requested()
        self.stop_requested = True
        self._stop_deadline = time.monotonic() + self.shutdown_grace
        signal.signal(signal.SIGINT, self.request_force_stop)
        signal.signal(signal.SIGTERM, self.request_force_stop)
        if self.horse_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.horse_pid, signal.SIGUSR1)

    def request_stop_execution(self, execution_id: str) -> None:
        _, running = self._slot.read()
        if running is None or running.execution_id != execution_id:
            log.warning("not running execution %s, stop command ignored", execution_id)
            return
        self.stopped_job_id = self.job_id_of(running)
        self.kill_horse()

    def kill_horse(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if not self.horse_pid:
            return
        try:
            os.killpg(self.horse_pid, sig)  # the horse leads its own group, with any children of its job
        except OSError as error:
            if error.errno not in (errno.ESRCH, errno.EPERM):
                raise
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.horse_pid, sig)

    def wait_for_horse(self) -> tuple[int | None, int | None, Any]:
        pid = self.horse_pid
        return pid, self._reap(block=True), None

    def _reap(self, block: bool) -> int | None:
        if not self.horse_pid:
            return None
        try:
            pid, status = os.waitpid(self.horse_pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid, status = self.horse_pid, 0
        if pid == 0:
            return None
        self.set_horse_pid(0)
        if self._death_fd >= 0:
            os.close(self._death_fd)
            self._death_fd = -1
        return status
