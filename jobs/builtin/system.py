"""System tasks for smoke tests, probes and benchmarks."""

from __future__ import annotations

import time
from typing import Any

from jobs.progress import report_progress
from jobs.registry import task
from jobs.retry import NO_RETRY


@task("system.echo", retry=NO_RETRY, description="Return the keyword arguments it was given.")
def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Return ``kwargs`` unchanged (positional arguments are accepted and ignored)."""
    return kwargs


@task("system.sleep", retry=NO_RETRY, description="Sleep for `seconds`, reporting progress, then return.")
def sleep(seconds: float = 1.0) -> dict[str, float]:
    """Sleep ``seconds`` (0-3600) in slices, reporting progress into the job as it goes."""
    seconds = float(seconds)
    if not 0 <= seconds <= 3600:
        raise ValueError("seconds must be between 0 and 3600")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.5))
        report_progress(min(1.0, 1 - max(0.0, deadline - time.monotonic()) / seconds) if seconds else 1.0)
    return {"slept": seconds}


@task("system.noop", retry=NO_RETRY, description="Do nothing (benchmarks).")
def noop() -> None:
    """Return at once."""
    return None
