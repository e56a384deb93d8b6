"""What a built-in handler needs besides its JSON arguments: the Redis connection and the settings.

Handlers take ids, never objects (house rule 7), so the connection comes from the job being run
(RQ's ``get_current_job().connection``: the worker's own client) and the settings are the ones the
worker process loaded at start (:func:`jobs.settings.process_settings`: the environment is read once
per process, not again here). Tests that run jobs in-process install their settings with
:func:`use_settings`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from rq import get_current_job

from jobs.settings import Settings, process_settings

_settings: Settings | None = None


def job_connection() -> Redis:
    """The Redis client of the job being run. Raises RuntimeError outside a worker."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("this handler runs inside a worker; call its run_* function directly instead")
    return job.connection


def job_settings() -> Settings:
    """The settings :func:`use_settings` installed, else the worker process's own."""
    return _settings if _settings is not None else process_settings()


@contextmanager
def use_settings(settings: Settings) -> Iterator[Settings]:
    """Make handlers in this process see ``settings`` until the block ends (tests, embedded workers)."""
    global _settings
    previous = _settings
    _settings = settings
    try:
        yield settings
    finally:
        _settings = previous
