"""The worker process (`python -m jobs.worker`, :mod:`jobs.worker.__main__`): RQ workers for every configured queue.

It runs RQ's ``WorkerPool`` with ``JOB_CONCURRENCY`` workers. RQ's pool starts each worker with
``with_scheduler=True``; we start them without it because the ``scheduler`` process owns moving
delayed jobs (a single leader with a short lease, so fail-over takes seconds, not RQ's 61 s lock TTL,
and no two processes ever move the same job). Each worker is a :class:`TaskyardPreforkWorker`: a
long-lived work horse (a :class:`TaskyardHorse`) runs the jobs, the worker supervises it
(:mod:`jobs.worker.prefork`). SIGTERM (a Heroku
dyno restart) is a warm shutdown: each worker stops taking jobs and finishes the one it runs within
``WORKER_SHUTDOWN_GRACE``, or hands it back to the front of its queue; a job cut short by a SIGKILL is
found abandoned within seconds (``JOB_ABANDON_AFTER``) and retried if it has retries left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from typing import Any

from redis import ConnectionPool
from rq import Queue, SimpleWorker
from rq import Worker as RQWorker
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.worker_pool import WorkerPool

from jobs.connection import connect
from jobs.delayed import PreciseRetryMixin
from jobs.hooks import JobEvent, hooks, task_of
from jobs.logs import setup_logging
from jobs.outcome import ReportedFailureMixin
from jobs.registry import load_tasks
from jobs.server_version import exit_if_too_old
from jobs.settings import Settings, load_or_exit, process_settings
from jobs.worker.admission import AdmissionMixin, FunctionPolicy
from jobs.worker.error_summary import EXCEPTION_HANDLERS
from jobs.worker.horse import PreforkHorse
from jobs.worker.prefork import PreforkWorker
from jobs.worker.round_trips import REDIS_DOWN
from jobs.worker.rq_compat import WorkerInternals, pool_connection_args

log = logging.getLogger("taskyard.worker")

MAINTENANCE_INTERVAL = 60  # seconds between RQ registry cleanups (finds abandoned jobs); RQ's default is 600


def prefork_options(settings: Settings) -> dict[str, Any]:
    """Constructor options of :class:`PreforkWorker` from the settings (recycling, memory, recovery)."""
    abandon_after = settings.worker.abandon_after
    return {
        "recycle_jobs": settings.worker.recycle_jobs,
        "recycle_rss_mb": float(settings.worker.recycle_rss_mb),
        "memory_limit_mb": settings.worker.memory_limit_mb,
        "isolated_queues": settings.worker.isolated_queues,
        "abandon_after": abandon_after,
        "maintenance_interval": max(1, abandon_after // 2),
        "job_monitoring_interval": max(1, abandon_after // 4),
        "shutdown_grace": settings.worker.shutdown_grace,
    }


class TaskyardSetup:
    """What every Taskyard worker is built with beyond RQ's: settings, the registered tasks, the function
    allow-list (:mod:`jobs.worker.admission`) and the failure summary handler (:mod:`jobs.worker.error_summary`).

    ``settings`` defaults to the process's own (:func:`jobs.settings.process_settings`, the environment
    read once): the stock ``rq worker -w ...`` CLI builds the worker itself. The task modules of
    ``TASK_MODULES`` are loaded so registered names resolve."""

    def __init__(self, *args: Any, settings: Settings | None = None, **kwargs: Any) -> None:
        self.settings = settings or process_settings()
        load_tasks(self.settings.process.task_modules)
        self.functions = FunctionPolicy(self.settings)
        given = kwargs.get("exception_handlers") or ()  # RQ takes one handler or a list
        handlers = list(given) if isinstance(given, (list, tuple)) else [given]
        kwargs["exception_handlers"] = [*(h for h in EXCEPTION_HANDLERS if h not in handlers), *handlers]
        super().__init__(*args, **kwargs)


class TaskyardMixin(TaskyardSetup, AdmissionMixin):
    """What a Taskyard class that runs jobs adds to RQ's: :class:`TaskyardSetup`, the allow-list check
    and task defaults on every job, and :mod:`jobs.hooks` events around every attempt. Mixed into the
    classes whose ``perform_job`` runs the job (the prefork horse, SimpleWorker), so each reports the
    same events, once."""

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        self.apply_task_defaults(job)
        task = task_of(job)
        hooks.emit(JobEvent("started", job, task, queue.name))
        started = time.monotonic()
        ok: bool = super().perform_job(job, queue, execution)  # type: ignore[misc]
        duration = time.monotonic() - started
        if ok:
            hooks.emit(JobEvent("finished", job, task, queue.name, duration))
            return ok
        status = job.get_status(refresh=False)
        if status == JobStatus.STOPPED:
            event = "stopped"
        elif status in (JobStatus.SCHEDULED, JobStatus.QUEUED):
            event = "retrying"
        else:
            event = "failed"
        hooks.emit(JobEvent(event, job, task, queue.name, duration, job.meta.get("last_error")))
        return ok


class TaskyardSimpleWorker(
    TaskyardMixin, ReportedFailureMixin, PreciseRetryMixin, WorkerInternals, SimpleWorker
):
    """RQ's in-process worker with Taskyard's checks and hooks (tests, debugging with breakpoints)."""


class TaskyardHorse(TaskyardMixin, ReportedFailureMixin, PreciseRetryMixin, PreforkHorse):
    """The horse of a :class:`TaskyardPreforkWorker`: RQ's ``SimpleWorker`` with the lean round trips
    (:mod:`jobs.worker.horse`), Taskyard's checks and hooks, reported failures and precise retries."""


class TaskyardPreforkWorker(TaskyardSetup, PreciseRetryMixin, PreforkWorker):
    """The Procfile's worker: it supervises a :class:`TaskyardHorse` (:mod:`jobs.worker.prefork`), and
    retries a job lost with its horse precisely. Without explicit options it takes recycling, memory
    and recovery from the settings."""

    horse_class = TaskyardHorse

    def __init__(self, *args: Any, settings: Settings | None = None, **kwargs: Any) -> None:
        settings = settings or process_settings()
        options = prefork_options(settings)
        if "abandon_after" in kwargs:  # intervals derive from an explicit abandon_after, not the settings'
            options = {
                k: v
                for k, v in options.items()
                if k not in ("job_monitoring_interval", "maintenance_interval")
            }
        super().__init__(*args, settings=settings, **{**options, **kwargs})


Worker = TaskyardPreforkWorker  # `rq worker -w jobs.worker.Worker`: the Procfile's worker under RQ's CLI


def _run_worker(
    worker_name: str,
    queue_names: Iterable[str],
    connection_class: Any,
    pool_class: Any,
    pool_kwargs: dict[str, Any],
    worker_class: type[RQWorker],
    task_modules: tuple[str, ...],
    burst: bool,
    logging_level: str,
    worker_options: dict[str, Any] | None = None,
) -> None:
    """Child process body: RQ's ``worker_pool.run_worker`` minus ``with_scheduler``."""
    load_tasks(task_modules)
    connection = connection_class(connection_pool=ConnectionPool(connection_class=pool_class, **pool_kwargs))
    queues = [Queue(name, connection=connection) for name in queue_names]
    pause = 0.25
    while True:  # RQ's constructor talks to Redis; raising here would make the pool respawn us every second
        try:
            worker = worker_class(
                queues,
                name=worker_name,
                connection=connection,
                **{"maintenance_interval": MAINTENANCE_INTERVAL, **(worker_options or {})},
                exception_handlers=EXCEPTION_HANDLERS,
            )
            break
        except REDIS_DOWN as error:
            log.error("worker %s: Redis unreachable (%s), retrying in %.2fs", worker_name, error, pause)
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
    worker.work(burst=burst, with_scheduler=False, logging_level=logging_level)


class TaskyardWorkerPool(WorkerPool):
    """RQ's WorkerPool whose workers leave delayed-job scheduling to the scheduler process."""

    def __init__(
        self,
        *args: Any,
        task_modules: tuple[str, ...] = (),
        worker_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.task_modules = task_modules
        self.worker_options = worker_options or {}

    def get_worker_process(
        self, name: str, burst: bool, _sleep: float = 0, logging_level: str = "INFO"
    ) -> BaseProcess:
        return get_context("fork").Process(
            target=_run_worker,
            args=(name, *pool_connection_args(self)),
            kwargs={
                "worker_class": self.worker_class,
                "task_modules": self.task_modules,
                "burst": burst,
                "logging_level": logging_level,
                "worker_options": self.worker_options,
            },
            name=f"Worker {name} (WorkerPool {self.name})",
        )


def build_pool(settings: Settings) -> TaskyardWorkerPool:
    """The pool the Procfile's ``worker`` runs: every configured queue, in priority order, each worker a
    :class:`TaskyardPreforkWorker` (a long-lived, supervised work horse; see :mod:`jobs.worker.prefork`)."""
    return TaskyardWorkerPool(
        settings.worker.queues,
        connection=connect(settings),
        num_workers=settings.worker.concurrency,
        worker_class=TaskyardPreforkWorker,
        task_modules=settings.process.task_modules,
        worker_options={**prefork_options(settings), "settings": settings},
    )


def main() -> None:
    """Entry point: validate settings, then run the pool until SIGTERM/SIGINT."""
    settings = load_or_exit()
    setup_logging(settings)
    load_tasks(settings.process.task_modules)
    exit_if_too_old(connect(settings))
    pool = build_pool(settings)
    log.info(
        "worker pool: %d workers on queues %s", settings.worker.concurrency, ",".join(settings.worker.queues)
    )
    pool.start(burst=False, logging_level=settings.process.log_level)
