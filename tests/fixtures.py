"""Tasks the tests enqueue. Loaded through TASK_MODULES=tests.fixtures, as a user's own module would be."""

from __future__ import annotations

import os
from pathlib import Path

from jobs.registry import task
from jobs.resilience.throttle import rate_limited
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


# --- misbehaving jobs (each must end failed with its reason while the worker keeps serving) ---
_LEAKED: list[bytes] = []


@task("tests.exit", retry=NO_RETRY)
def exit_process(code: int = 3) -> None:
    """Leave the process at once, as a C extension's abort or a stray ``os._exit`` would."""
    os._exit(code)


@task("tests.deaf_hang", retry=NO_RETRY, timeout=1)
def deaf_hang(seconds: float = 60) -> None:
    """Hang past the 1 s timeout with SIGALRM blocked, as a job stuck in C code would."""
    import signal
    import time

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(seconds)


@task("tests.hang", retry=NO_RETRY, timeout=1)
def hang(seconds: float = 60) -> None:
    """Hang past the 1 s timeout in Python code (RQ's SIGALRM stops it)."""
    import time

    time.sleep(seconds)


@task("tests.leak", retry=NO_RETRY)
def leak(megabytes: int = 40) -> int:
    """Keep ``megabytes`` alive in a module-level list after returning, as a leaking job does."""
    _LEAKED.append(b"x" * (megabytes * 1_048_576))
    return os.getpid()


@task("tests.hog", retry=NO_RETRY)
def hog(step_megabytes: int = 50) -> None:
    """Allocate until the process's memory cap stops it."""
    chunks = []
    while True:
        chunks.append(bytearray(step_megabytes * 1_048_576))


@task("tests.unserialisable", retry=NO_RETRY)
def unserialisable() -> object:
    """Return something the result store cannot pickle."""
    import threading

    return threading.Lock()


@task("tests.record", retry=RetryPolicy(max_retries=5, backoff="fixed", delay=0))
def record(key: str, sleep: float = 0.0) -> int:
    """Append this job's id to the Redis list ``key`` (the fault tests count runs), after ``sleep``."""
    import time

    from rq import get_current_job

    if sleep:
        time.sleep(sleep)
    job = get_current_job()
    assert job is not None
    return int(job.connection.rpush(key, job.id))


@task("tests.limited", retry=NO_RETRY)
@rate_limited(per_second=2)
def limited(n: int) -> int:
    """At most two runs a second (jobs.resilience.throttle)."""
    from rq import get_current_job

    job = get_current_job()
    assert job is not None
    job.connection.rpush("test:limited", n)
    return n


# --- handlers written the way the scheduled-tasks design note shows them ---
@task("tests.report", retry=RetryPolicy(max_retries=1, backoff="fixed", delay=0))
def report(success: bool, error: str = "disk full") -> dict[str, object]:
    """Catch its own error and report it, as the note's handlers do: ``{success, error|message}``."""
    if success:
        return {"success": True, "message": "Task completed successfully"}
    return {"success": False, "error": error}


def record_moment(key: str) -> float:
    """A plain RQ function (not a task): append ``job id, enqueued at, started at`` (epoch seconds) as JSON
    to the Redis list ``key``, so tests can tell when the scheduler moved the job and how often it ran."""
    import json
    import time

    from rq import get_current_job

    job = get_current_job()
    assert job is not None and job.enqueued_at is not None
    started = time.time()
    record = {"id": job.id, "enqueued": job.enqueued_at.timestamp(), "started": started}
    job.connection.rpush(key, json.dumps(record))
    return started


@task("tests.default_retry")
def default_retry() -> None:
    """A task without its own retry policy: it retries as JOB_MAX_RETRIES / JOB_RETRY_DELAY say."""


def plain_report() -> dict[str, object]:
    """A plain RQ function (not a task) returning what a failing handler of the scheduled-tasks note
    returns: for plain RQ jobs that is just a result."""
    return {"success": False, "error": "disk full"}
