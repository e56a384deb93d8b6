"""The worker process (`python -m jobs.worker`): RQ workers for every configured queue.

It runs RQ's ``WorkerPool`` with ``JOB_CONCURRENCY`` workers. RQ's pool starts each worker with
``with_scheduler=True``; we start them without it because the ``scheduler`` process owns moving
delayed jobs (a single leader with a short lease, so fail-over takes seconds, not RQ's 61 s lock TTL,
and no two processes ever move the same job). SIGTERM (a Heroku dyno restart) is a warm shutdown: each
worker stops taking jobs and finishes the one it runs; a job cut short by the platform's SIGKILL after
the grace period is found abandoned by RQ's cleanup and retried if it has retries left.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from typing import Any

from redis import ConnectionPool
from rq import Queue, Worker
from rq.worker_pool import WorkerPool

from jobs.connection import connect
from jobs.failures import EXCEPTION_HANDLERS
from jobs.logs import setup_logging
from jobs.registry import load_tasks
from jobs.settings import Settings, load_or_exit

log = logging.getLogger("taskyard.worker")

MAINTENANCE_INTERVAL = 60  # seconds between RQ registry cleanups (finds abandoned jobs); RQ's default is 600


def _run_worker(
    worker_name: str,
    queue_names: Iterable[str],
    connection_class: Any,
    pool_class: Any,
    pool_kwargs: dict[str, Any],
    worker_class: type[Worker],
    task_modules: tuple[str, ...],
    burst: bool,
    logging_level: str,
) -> None:
    """Child process body: RQ's ``worker_pool.run_worker`` minus ``with_scheduler``."""
    load_tasks(task_modules)
    connection = connection_class(connection_pool=ConnectionPool(connection_class=pool_class, **pool_kwargs))
    queues = [Queue(name, connection=connection) for name in queue_names]
    worker = worker_class(
        queues,
        name=worker_name,
        connection=connection,
        maintenance_interval=MAINTENANCE_INTERVAL,
        exception_handlers=EXCEPTION_HANDLERS,
    )
    worker.work(burst=burst, with_scheduler=False, logging_level=logging_level)


class TaskyardWorkerPool(WorkerPool):
    """RQ's WorkerPool whose workers leave delayed-job scheduling to the scheduler process."""

    def __init__(self, *args: Any, task_modules: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task_modules = task_modules

    def get_worker_process(
        self, name: str, burst: bool, _sleep: float = 0, logging_level: str = "INFO"
    ) -> BaseProcess:
        return get_context("fork").Process(
            target=_run_worker,
            args=(name, self._queue_names, self._connection_class, self._pool_class, self._pool_kwargs),
            kwargs={
                "worker_class": self.worker_class,
                "task_modules": self.task_modules,
                "burst": burst,
                "logging_level": logging_level,
            },
            name=f"Worker {name} (WorkerPool {self.name})",
        )


def build_pool(settings: Settings) -> TaskyardWorkerPool:
    """The pool the Procfile's ``worker`` runs: every configured queue, in priority order."""
    return TaskyardWorkerPool(
        settings.queues,
        connection=connect(settings),
        num_workers=settings.job_concurrency,
        worker_class=Worker,
        task_modules=settings.task_modules,
    )


def main() -> None:
    """Entry point: validate settings, then run the pool until SIGTERM/SIGINT."""
    settings = load_or_exit()
    setup_logging(settings)
    load_tasks(settings.task_modules)
    pool = build_pool(settings)
    log.info("worker pool: %d workers on queues %s", settings.job_concurrency, ",".join(settings.queues))
    pool.start(burst=False, logging_level=settings.log_level)


if __name__ == "__main__":
    main()
