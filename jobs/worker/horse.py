"""The work horse of a :class:`~jobs.worker.prefork.PreforkWorker`: the child, forked once, that runs many jobs.

The horse is RQ's ``SimpleWorker`` with the lean round trips, made from its worker right after the fork
(:meth:`PreforkHorse.from_worker`). It runs RQ's job steps (pop, start, ``perform_job``, finish; see :mod:`jobs.worker.round_trips` for the
three round trips, :mod:`jobs.worker.recovery` for its maintenance) and writes which job it runs into its
:class:`~jobs.worker.horse_state.Slot`, where the supervising worker reads it. It stops taking jobs on SIGUSR1
(the worker's warm shutdown) or once its parent is gone; it ignores SIGTERM and SIGINT, which the
worker handles.

A horse is replaced after ``recycle_jobs`` jobs, after any failed job (a timeout or ``MemoryError`` may
leave it in a bad state), and when its RSS passes ``recycle_rss_mb``; its private memory (heap,
anonymous maps: ``RLIMIT_DATA``) may grow by at most ``memory_limit_mb``, so a job allocating past that
fails with ``MemoryError``. Address space is not capped: mapping a large file costs no memory until
touched, and ordinary jobs do it.

Module globals live as long as the horse: a job that counts in a global sees what earlier jobs of the
same horse left there (stock RQ forks a fresh child per job). A queue listed in ``isolated_queues``
(``WORKER_ISOLATED_QUEUES``) gets RQ's behaviour: each of its jobs runs in a horse that has run nothing
before and exits after it (a horse that has run other jobs hands such a job back to the front of its
queue and is replaced).

A job whose return value cannot be stored fails with ``UnstorableResult`` (RQ would store a placeholder
and call it finished).
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import random
import resource
import signal
import time
from typing import Any

from rq import Queue, SimpleWorker
from rq.job import Job

from jobs import metrics
from jobs.worker.horse_state import EXIT_DONE, Running, Slot
from jobs.worker.recovery import RecoveryMixin
from jobs.worker.round_trips import REDIS_DOWN, LeanRoundTripsMixin
from jobs.worker.rq_compat import StopRequested

log = logging.getLogger("taskyard.worker")

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
BLOCK_IDLE = 2  # seconds an idle horse waits before its loop checks for a dead parent and suspension
HORSE_OPTIONS = ("recycle_jobs", "recycle_rss_mb", "memory_limit_mb", "isolated_queues")  # see PreforkHorse


class UnstorableResult(TypeError):
    """A job returned a value the serializer cannot store."""


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


def _data_bytes() -> int:
    """Private writable memory (heap, anonymous maps, stacks): what ``RLIMIT_DATA`` counts."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[5]) * PAGE_BYTES


def _class_settings(worker_class: type, horse_class: type) -> dict[str, Any]:
    """The data attributes (options, job and queue classes; not methods) that ``worker_class`` and its
    bases set beyond ``horse_class``'s: a subclass setting RQ's ``log_result_lifespan = False`` or
    ``job_class = MyJob`` configures its horse too. Methods stay the horse class's own: behaviour is
    changed through the worker's ``horse_class``."""
    found: dict[str, Any] = {}
    for klass in reversed(worker_class.__mro__):
        if klass in horse_class.__mro__:
            continue
        for name, value in vars(klass).items():
            if name.startswith("__") or inspect.isfunction(value) or isinstance(value, _DESCRIPTORS):
                continue
            found[name] = value
    return found


_DESCRIPTORS = (property, classmethod, staticmethod, functools.cached_property)


class PreforkHorse(LeanRoundTripsMixin, RecoveryMixin, SimpleWorker):
    """What a :class:`~jobs.worker.prefork.PreforkWorker`'s forked horse is: RQ's in-process worker with
    the lean round trips and fast recovery, running many jobs in a row (see the module docstring).

    A horse is made from its worker in the forked child (:meth:`from_worker`) and run by :meth:`run`;
    it is not registered in Redis on its own: it works under its worker's name and key."""

    recycle_jobs = 1000  # jobs one horse runs before it is replaced (0 = never)
    recycle_rss_mb = 512.0  # a horse whose RSS is above this after a job is replaced
    memory_limit_mb = 2048  # how far a horse's private memory may grow (RLIMIT_DATA); 0 = no cap
    isolated_queues: tuple[str, ...] = ()  # queues whose every job runs in a fresh horse (RQ's fork per job)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for option in HORSE_OPTIONS:
            if option in kwargs:
                setattr(self, option, kwargs.pop(option))
        super().__init__(*args, **kwargs)
        self._reset_horse()

    @classmethod
    def from_worker(cls, worker: Any, **options: Any) -> PreforkHorse:
        """A horse with ``worker``'s configuration and state (queues, connection, name, job and queue
        classes, serializer, exception handlers, settings: everything its constructor and RQ's set up,
        as a fork would carry it), plus ``options`` (:data:`HORSE_OPTIONS`). Built without a second
        constructor call: RQ's registers a client name and reads Redis, once per worker is enough."""
        horse = cls.__new__(cls)
        horse.__dict__.update(_class_settings(type(worker), cls))
        horse.__dict__.update(worker.__dict__)
        for option, value in options.items():
            setattr(horse, option, value)
        horse.reset_round_trips()
        horse._reset_horse()
        return horse

    def _reset_horse(self) -> None:
        self._slot = Slot()  # what this horse runs: the worker's slot once run() is called
        self._parent_pid = 0  # the supervising worker
        self._ran = 0  # jobs this horse has run
        self._until_exit: int | None = None  # jobs the horse may still run before max_jobs is reached
        self.max_idle_time: int | None = None  # RQ's work(max_idle_time=): seconds without a job, then stop

    def run(
        self, slot: Slot, parent_pid: int, burst: bool, max_jobs: int | None, max_idle_time: int | None = None
    ) -> int:
        """The horse's life in the forked child: run jobs until stopped, recycled, done or orphaned (its
        worker ``parent_pid`` gone), writing each into ``slot``; return the exit status
        (:data:`EXIT_DONE`: burst queues drained or ``max_jobs`` reached, the worker stops too)."""
        self._slot = slot
        self._parent_pid = parent_pid
        self.max_idle_time = max_idle_time
        os.setpgrp()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # Heroku signals every process: the worker decides
        signal.signal(signal.SIGUSR1, self._horse_stop)
        random.seed()
        self.become_horse()
        self.log = logging.getLogger("rq.worker")
        self.pubsub_thread = None
        if self.memory_limit_mb:
            cap = _data_bytes() + int(self.memory_limit_mb * 1_048_576)
            resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
        metrics.buffer_in_process()
        done, _ = self._slot.read()
        try:
            return self._job_loop(burst, max_jobs, done)
        finally:
            try:
                self.hand_back()
                metrics.flush(self.connection)
            except REDIS_DOWN:
                log.error("worker %s: Redis unreachable while the work horse exits", self.name)

    def _job_loop(self, burst: bool, max_jobs: int | None, done: int) -> int:
        idle_since = time.monotonic()
        while not self.stop_requested and os.getppid() == self._parent_pid:
            if self._prefetched is None:  # prefetching pauses while a suspension check is due
                try:
                    self.check_for_suspension(burst)
                except StopRequested:  # suspended in burst mode: stop, as RQ's worker does
                    return EXIT_DONE
            self._until_exit = None if max_jobs is None else max_jobs - done
            popped = self.dequeue_job_and_maintain_ttl(None if burst else BLOCK_IDLE)
            if popped is None:
                if burst or (self.max_idle_time and time.monotonic() - idle_since >= self.max_idle_time):
                    return EXIT_DONE
                continue
            job, queue = popped
            isolated = queue.name in self.isolated_queues
            if isolated and self._ran and self._pop_script is not None:  # needs a fresh horse: hand it back
                self._prefetched = (queue.key, job.id, {})
                return 0
            try:
                ok = self._run(job, queue, done)
            except REDIS_DOWN:
                # Unrecorded start: the id waits in the intermediate list; a started job is abandoned.
                log.error("worker %s: Redis unreachable while running job %s", self.name, job.id)
                ok = False
            done += 1
            self._ran += 1
            self._slot.finish(done)
            idle_since = time.monotonic()
            if max_jobs is not None and done >= max_jobs:
                return EXIT_DONE
            if not ok or isolated or self._recycle_due(after_this=0):
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
            self.is_horse
            and super().prefetch_wanted()
            and os.getppid() == self._parent_pid
            and (self._until_exit is None or self._until_exit > 1)
            and not self._recycle_due(after_this=1)
        )

    def before_idle(self) -> None:
        """The queues are empty: write the metrics this horse holds, so they are current while idle."""
        metrics.flush(self.connection)

    def apply_task_defaults(self, job: Job) -> Any:
        """A registered task's timeout and retry policy for a job enqueued by plain RQ code (see
        :mod:`jobs.worker.admission`); the Taskyard horse class provides it."""

    def _run(self, job: Job, queue: Queue, done: int) -> bool:
        self.apply_task_defaults(job)  # before the timeout is read: the worker kills by it
        timeout = job.timeout or self.queue_class.DEFAULT_TIMEOUT
        execution = self.start_execution(job, queue)
        self._slot.start(done, Running(job.id, execution.id, time.time(), float(timeout)))
        return bool(self.perform_job(job, queue, execution))

    def check_return_value(self, job: Job, return_value: Any) -> None:
        """Fail a job whose return value cannot be stored (RQ would store a placeholder and call it
        finished): the caller asked for a result, and a clear failure says why there is none."""
        super().check_return_value(job, return_value)
        try:
            self.serializer.dumps(return_value)
        except Exception as error:
            name = type(return_value).__name__
            raise UnstorableResult(f"the job returned {name}, which cannot be stored: {error}") from None

    def _horse_stop(self, signum: int, frame: Any) -> None:
        self.stop_requested = True
