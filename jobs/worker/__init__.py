"""The worker: RQ workers that run jobs, their pool, and everything they do around a job.

``pool`` (the process ``python -m jobs.worker`` starts: RQ's ``WorkerPool``, and the Taskyard worker
classes), ``prefork`` (a worker that supervises a job-running child living for many jobs), ``horse`` and
``horse_state`` (that child, and what it tells its parent), ``horse_loss`` (a job whose horse died),
``round_trips`` (two or three Redis round trips per job) and ``queue_scripts`` (their Lua), ``recovery`` (abandoned jobs found in
seconds), ``admission`` (which functions a worker runs), ``error_summary`` (what is recorded about a failed
attempt), ``rq_compat`` (every RQ internal the worker relies on) and ``rq_contract`` (its contract, checked
against the installed RQ).

``jobs.worker.Worker`` is the class for RQ's CLI: ``rq worker -w jobs.worker.Worker``.
"""

from typing import Any

__all__ = ["TaskyardPreforkWorker", "TaskyardSimpleWorker", "Worker", "main"]


def __getattr__(name: str) -> Any:
    """The pool's classes, imported on first use: base modules import :mod:`jobs.worker.rq_compat`, and
    an eager import of the pool here would import them back half-initialised."""
    if name in __all__:
        from jobs.worker import pool

        return getattr(pool, name)
    raise AttributeError(f"module 'jobs.worker' has no attribute {name!r}")
