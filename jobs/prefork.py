"""A worker whose job-running child lives for many jobs: fork isolation at in-process speed.

RQ's ``Worker`` forks a work horse per job (isolation, ~10 ms a job); ``SimpleWorker`` runs jobs in the
worker itself (fast, but a job that calls ``os._exit``, leaks or hangs in C code takes the worker with
it). :class:`PreforkWorker` splits the two roles differently:

* the **horse**, a child forked once, runs RQ's own job loop (pop, start, ``perform_job``, finish; see
  :mod:`jobs.lean` for the three round trips) for many jobs. It writes which job it runs into a few
  bytes of memory shared with its parent (no system call, no round trip per job);
* the **worker** (the parent, registered in Redis under its name like any RQ worker) supervises: it
  sleeps until the horse dies or a deadline passes, heartbeats jobs that run long, kills a horse whose
  job outlives its timeout by ``kill_grace`` seconds (stuck in C code, deaf to RQ's SIGALRM), and
  starts a new horse whenever the old one is gone.

A job whose horse died (``os._exit``, a signal, the OOM killer, the kill above) fails with a
``HorseLost`` reason, or is retried under its retry policy; the next job gets a fresh horse. A horse is
also replaced after ``recycle_jobs`` jobs, after any failed job (a timeout or ``MemoryError`` may leave
it in a bad state), and when its RSS passes ``recycle_rss_mb``; its address space may grow by at most
``memory_limit_mb`` (``RLIMIT_AS``), so a job allocating past that fails with ``MemoryError``.

A job whose return value cannot be stored fails with ``UnstorableResult`` (RQ would store a placeholder
and call it finished).

SIGTERM (a dyno restart): the worker asks the horse to stop taking jobs; the running job may finish
for ``shutdown_grace`` seconds, after which the horse is killed and the job handed back to the front
of its queue (it did not fail; no retry is used). A second SIGTERM/SIGINT kills the horse at once.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import mmap
import os
import random
import resource
import select
import signal
import struct
import time
from dataclasses import dataclass
from typing import Any

from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.utils import now

from jobs import metrics
from jobs.hooks import JobEvent, hooks
from jobs.lean import REDIS_DOWN, LeanRoundTripsMixin
from jobs.settings import Settings

log = logging.getLogger("taskyard.worker")

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
BLOCK_IDLE = 2  # seconds an idle horse waits before its loop checks for a dead parent and suspension
EXIT_DONE = 64  # horse exit status: burst queues drained or max_jobs reached, the worker stops too
_SLOT = struct.Struct("<QQdd64s40s128s")  # seq, jobs done, started (epoch), timeout, job, execution, queue


class HorseLost(Exception):
    """The work horse died or was killed while running a job (the message says how)."""


class UnstorableResult(TypeError):
    """A job returned a value the serializer cannot store."""


@dataclass(frozen=True)
class Running:
    """The job a horse is running, as the worker sees it."""

    job_id: str
    execution_id: str
    queue: str
    started: float
    timeout: float


class Slot:
    """What the horse runs, in anonymous shared memory (a seqlock: the writer makes ``seq`` odd while
    it writes; a reader retries on an odd or changed ``seq``). Created before the fork."""

    def __init__(self) -> None:
        self._mem = mmap.mmap(-1, _SLOT.size)
        self._seq = 0

    def _write(self, done: int, running: Running | None) -> None:
        self._seq += 1
        struct.pack_into("<Q", self._mem, 0, self._seq)
        fields = (b"", b"", b"", 0.0, 0.0) if running is None else _encode(running)
        _SLOT.pack_into(self._mem, 0, self._seq, done, fields[3], fields[4], *fields[:3])
        self._seq += 1
        struct.pack_into("<Q", self._mem, 0, self._seq)

    def start(self, done: int, running: Running) -> None:
        self._write(done, running)

    def finish(self, done: int) -> None:
        self._write(done, None)

    def read(self) -> tuple[int, Running | None]:
        while True:
            seq, done, started, timeout, job, execution, queue = _SLOT.unpack_from(self._mem, 0)
            if seq % 2 == 0 and struct.unpack_from("<Q", self._mem, 0)[0] == seq:
                self._seq = max(self._seq, seq)
                break
        job_id = job.rstrip(b"\0").decode()
        if not job_id:
            return done, None
        return done, Running(
            job_id, execution.rstrip(b"\0").decode(), queue.rstrip(b"\0").decode(), started, timeout
        )


def _encode(running: Running) -> tuple[bytes, bytes, bytes, float, float]:
    return (
        running.job_id.encode(),
        running.execution_id.encode(),
        running.queue.encode(),
        running.started,
        running.timeout,
    )


class _Statm:
    """This process's RSS from ``/proc/self/statm``, kept open (one ``pread`` per job, not three calls)."""

    def __init__(self) -> None:
        self._fd = -1
        self._pid = 0

    def rss_mb(self) -> float:
        if self._pid != os.getpid():  # opened after the fork: /proc/self is resolved at open
            self._fd = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
            self._pid = os.getpid()
        return int(os.pread(self._fd, 128, 0).split()[1]) * PAGE_BYTES / 1_048_576


_rss_mb = _Statm().rss_mb


def _vsz_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * PAGE_BYTES


def describe_exit(status: int) -> str:
    """``exit status 3`` / ``signal 9 (SIGKILL)`` for a ``waitpid`` status."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"signal {number} ({signal.Signals(number).name})"
        except ValueError:
            return f"signal {number}"
    return f"exit status {os.WEXITSTATUS(status)}"


class PreforkWorker(LeanRoundTripsMixin, Worker):
    """An RQ ``Worker`` whose long-lived horse runs the job loop (see the module docstring)."""

    recycle_jobs = 1000  # jobs one horse runs before it is replaced (0 = never)
    recycle_rss_mb = 512.0  # a horse whose RSS is above this after a job is replaced
    memory_limit_mb = 2048  # how far a horse's address space may grow (RLIMIT_AS); 0 = no cap
    kill_grace = 2.0  # seconds past a job's timeout before the worker kills a horse deaf to SIGALRM
    shutdown_grace = 25.0  # seconds a running job gets after SIGTERM (Heroku kills at 30)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for option in ("recycle_jobs", "recycle_rss_mb", "memory_limit_mb", "kill_grace", "shutdown_grace"):
            if option in kwargs:
                setattr(self, option, kwargs.pop(option))
        super().__init__(*args, **kwargs)
        self._slot = Slot()
        self._death_fd = -1
        self._parent_pid = 0
        self._kill_reason: str | None = None
        self._stop_deadline: float | None = None
        self._beat_job: Job | None = None
        self._ran = 0  # jobs the current horse has run
        self._until_exit: int | None = None  # jobs the horse may still run before max_jobs is reached

    # --- the worker: supervise ------------------------------------------------------------------
    def work(self, burst: bool = False, logging_level: str | None = None, *args: Any, **kwargs: Any) -> bool:
        """Register, then keep one horse running jobs until stopped (or, in burst mode, drained)."""
        self._bootstrap(logging_level or "INFO")
        self._install_signal_handlers()
        max_jobs = kwargs.get("max_jobs")
        try:
            while True:
                if not self._horse_pid:
                    if self._stop_requested:
                        break
                    self._start_horse(burst, max_jobs)
                status = self._supervise()
                if status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_DONE:
                    break
        finally:
            self._cold_stop()
            self.teardown()
        return self._slot.read()[0] > 0

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
        if not self._horse_pid:
            return
        _, running = self._slot.read()
        self.kill_horse()
        status = self._reap(block=True)
        if running is not None:
            self._kill_reason = "handback"
            self._judge(running, status or 0)

    def _start_horse(self, burst: bool, max_jobs: int | None) -> None:
        read_end, write_end = os.pipe()  # the horse holds write_end: EOF here means it is gone
        self._parent_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            code = 1
            try:
                code = self._horse(burst, max_jobs)
            except BaseException:
                log.exception("work horse crashed")
            os._exit(code)
        os.close(write_end)
        self._death_fd = read_end
        self._horse_pid = pid
        self._kill_reason = None
        self.procline(f"Supervising horse {pid}")

    def _supervise(self) -> int | None:
        """Wait for the horse to die or a deadline; return its exit status once it is gone."""
        _, running = self._slot.read()
        wait = float(self.job_monitoring_interval)
        if running is not None and running.timeout > 0:
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
                self._judge(running, status or 0)
                self._slot.finish(self._slot.read()[0])
            return status
        _, running = self._slot.read()
        if running is None:
            return None
        if running.timeout > 0 and time.time() > running.started + running.timeout + self.kill_grace:
            self._kill_reason = f"job exceeded its timeout of {running.timeout:g}s and did not stop; its work horse was killed"
            self.kill_horse()
        elif self._stop_deadline is not None and time.monotonic() >= self._stop_deadline:
            self._kill_reason = "handback"
            self.kill_horse()
        elif time.time() - running.started >= self.job_monitoring_interval:
            self._beat(running)
        return None

    def _beat(self, running: Running) -> None:
        """Heartbeat a long job's execution, as RQ's worker does while its horse works."""
        try:
            if self._beat_job is None or self._beat_job.id != running.job_id:
                self._beat_job = self.job_class.fetch(running.job_id, connection=self.connection)
            execution = Execution(
                running.execution_id, running.job_id, self.connection, worker_name=self.name
            )
            self.maintain_heartbeats(self._beat_job, execution)
        except Exception:
            log.warning("worker %s: could not heartbeat job %s", self.name, running.job_id, exc_info=True)

    def _judge(self, running: Running, status: int) -> None:
        """The horse ended mid-job: fail, retry, mark stopped, or hand the job back, with the reason."""
        try:
            job = self.job_class.fetch(running.job_id, connection=self.connection, serializer=self.serializer)
        except NoSuchJobError:
            return
        if job.get_status(refresh=False) in (JobStatus.FINISHED, JobStatus.FAILED):
            return  # the horse recorded the outcome, then died
        queue = self.queue_class(running.queue, connection=self.connection, serializer=self.serializer)
        execution = Execution(running.execution_id, job.id, self.connection, worker_name=self.name)
        execution.created_at = job.started_at or now()
        duration = time.time() - running.started
        task = str(job.meta.get("task") or job.func_name)
        if self._kill_reason == "handback":
            with self.connection.pipeline() as pipe:
                self.cleanup_execution(job, pipeline=pipe, execution=execution)
                job.set_status(JobStatus.QUEUED, pipeline=pipe)
                queue.push_job_id(job.id, pipeline=pipe, at_front=True)
                pipe.execute()
            log.warning("job %s handed back to %s: the worker is shutting down", job.id, queue.name)
            return
        if self._stopped_job_id == job.id:
            self._handle_stopped_job(job, queue, execution)
            hooks.emit(JobEvent("stopped", job, task, queue.name, duration))
            return
        reason = self._kill_reason or (
            f"the work horse running the job ended with {describe_exit(status)} (os._exit, a crash or the OOM killer)"
        )
        log.warning("job %s failed: %s", job.id, reason)
        job.ended_at = now()
        error = HorseLost(reason)
        for handler in self._exc_handlers:
            try:
                if not handler(job, HorseLost, error, None):
                    break
            except Exception:
                log.exception("exception handler failed for job %s", job.id)
        self.handle_job_failure(job, queue=queue, exc_string=f"HorseLost: {reason}", execution=execution)
        retrying = job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.SCHEDULED)
        hooks.emit(
            JobEvent("retrying" if retrying else "failed", job, task, queue.name, duration, str(error))
        )

    def request_stop(self, signum: int, frame: Any) -> None:
        """Warm shutdown: the horse finishes its job (within ``shutdown_grace``) and takes no other."""
        self._shutdown_requested_date = now()
        self._stop_requested = True
        self._stop_deadline = time.monotonic() + self.shutdown_grace
        signal.signal(signal.SIGINT, self.request_force_stop)
        signal.signal(signal.SIGTERM, self.request_force_stop)
        if self._horse_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._horse_pid, signal.SIGUSR1)

    def request_stop_execution(self, execution_id: str) -> None:
        _, running = self._slot.read()
        if running is None or running.execution_id != execution_id:
            log.warning("not running execution %s, stop command ignored", execution_id)
            return
        self._stopped_job_id = running.job_id
        self.kill_horse()

    def kill_horse(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if not self._horse_pid:
            return
        try:
            os.killpg(self._horse_pid, sig)  # the horse leads its own group, with any children of its job
        except OSError as error:
            if error.errno not in (errno.ESRCH, errno.EPERM):
                raise
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._horse_pid, sig)

    def wait_for_horse(self) -> tuple[int | None, int | None, Any]:
        pid = self._horse_pid
        return pid, self._reap(block=True), None

    def _reap(self, block: bool) -> int | None:
        if not self._horse_pid:
            return None
        try:
            pid, status = os.waitpid(self._horse_pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid, status = self._horse_pid, 0
        if pid == 0:
            return None
        self._horse_pid = 0
        if self._death_fd >= 0:
            os.close(self._death_fd)
            self._death_fd = -1
        return status

    # --- the horse: run jobs --------------------------------------------------------------------
    def _horse(self, burst: bool, max_jobs: int | None) -> int:
        os.setpgrp()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # Heroku signals every process: the worker decides
        signal.signal(signal.SIGUSR1, self._horse_stop)
        random.seed()
        self._is_horse = True
        self.log = logging.getLogger("rq.worker")
        self.pubsub_thread = None
        if self.memory_limit_mb:
            cap = _vsz_bytes() + int(self.memory_limit_mb * 1_048_576)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        metrics.buffer_in_process()
        done, _ = self._slot.read()
        self._ran = 0
        try:
            return self._job_loop(burst, max_jobs, done)
        finally:
            try:
                self.hand_back()
                metrics.flush(self.connection)
            except REDIS_DOWN:
                log.error("worker %s: Redis unreachable while the work horse exits", self.name)

    def _job_loop(self, burst: bool, max_jobs: int | None, done: int) -> int:
        while not self._stop_requested and os.getppid() == self._parent_pid:
            if self._prefetched is None:  # prefetching pauses while a suspension check is due
                self.check_for_suspension(burst)
            self._until_exit = None if max_jobs is None else max_jobs - done
            popped = self.dequeue_job_and_maintain_ttl(None if burst else BLOCK_IDLE)
            if popped is None:
                if burst:
                    return EXIT_DONE
                continue
            job, queue = popped
            try:
                ok = self._run(job, queue, done)
            except REDIS_DOWN:
                # Unrecorded start: the id waits in the intermediate list; a started job is abandoned.
                log.error("worker %s: Redis unreachable while running job %s", self.name, job.id)
                ok = False
            done += 1
            self._ran += 1
            self._slot.finish(done)
            if max_jobs is not None and done >= max_jobs:
                return EXIT_DONE
            if not ok or self._recycle_due(after_this=0):
                return 0
        return 0

    def _recycle_due(self, after_this: int) -> bool:
        """Whether the horse is to be replaced once it has run ``after_this`` more jobs."""
        if self.recycle_jobs and self._ran + after_this >= self.recycle_jobs:
            return True
        return _rss_mb() > self.recycle_rss_mb

    def prefetch_wanted(self) -> bool:
        """Only a horse that will run another job prefetches it (not one about to stop or be replaced)."""
        return (
            self._is_horse
            and super().prefetch_wanted()
            and os.getppid() == self._parent_pid
            and (self._until_exit is None or self._until_exit > 1)
            and not self._recycle_due(after_this=1)
        )

    def before_idle(self) -> None:
        """The queues are empty: write the metrics this horse holds, so they are current while idle."""
        metrics.flush(self.connection)

    def _run(self, job: Job, queue: Queue, done: int) -> bool:
        timeout = job.timeout or self.queue_class.DEFAULT_TIMEOUT
        execution = self.start_execution(job, queue)
        self._slot.start(done, Running(job.id, execution.id, queue.name, time.time(), float(timeout)))
        return bool(self.perform_job(job, queue, execution))

    def _finalize_success(self, job: Job, queue: Queue, execution: Execution, return_value: Any) -> None:
        """Fail a job whose return value cannot be stored (RQ would store a placeholder and call it
        finished): the caller asked for a result, and a clear failure says why there is none."""
        try:
            self.serializer.dumps(return_value)
        except Exception as error:
            name = type(return_value).__name__
            raise UnstorableResult(f"the job returned {name}, which cannot be stored: {error}") from None
        super()._finalize_success(job, queue, execution, return_value)

    def _horse_stop(self, signum: int, frame: Any) -> None:
        self._stop_requested = True


def prefork_options(settings: Settings) -> dict[str, Any]:
    """Constructor options of :class:`PreforkWorker` from the settings (recycling, memory, recovery)."""
    abandon_after = settings.job_abandon_after
    return {
        "recycle_jobs": settings.worker_recycle_jobs,
        "recycle_rss_mb": float(settings.worker_recycle_rss_mb),
        "memory_limit_mb": settings.job_memory_limit_mb,
        "abandon_after": abandon_after,
        "maintenance_interval": max(1, abandon_after // 2),
        "job_monitoring_interval": max(0.5, abandon_after / 4),
        "shutdown_grace": settings.worker_shutdown_grace,
    }
