"""Tasks the tests enqueue. Loaded through TASK_MODULES=tests.fixtures, as a user's own module would be."""

from __future__ import annotations

import os
from pathlib import Path

from jobs.registry import task
from jobs.retry import NO_RETRY, RetryPolicy


@task("tests.add", retry=NO_RETRY)
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@task("tests.fail", retry=NO_RETRY)
def fail(message: str = "boom") -> None:
    """Always raise."""
    raise ValueError(message)


@task("tests.flaky", retry=RetryPolicy(max_retries=3, backoff="fixed", delay=1))
def flaky(counter_file: str, failures: int) -> int:
    """Fail ``failures`` times (counted in a file), then return the attempt number."""
    path = Path(counter_file)
    attempt = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(attempt))
    if attempt <= failures:
        raise RuntimeError(f"attempt {attempt} fails")
    return attempt


@task("tests.pid", retry=NO_RETRY)
def pid() -> int:
    """The worker process's pid."""
    return os.getpid()


@task("tests.record_run", retry=NO_RETRY)
def record_run() -> str:
    """Append this run's job id to the Redis list ``test:runs`` (to count real executions)."""
    from rq import get_current_job

    job = get_current_job()
    assert job is not None
    job.connection.rpush("test:runs", job.id)
    return job.id
