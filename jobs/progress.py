"""Progress reporting from inside a running job, stored in ``job.meta`` where the API reads it."""

from __future__ import annotations

from rq import get_current_job


def report_progress(fraction: float, message: str | None = None, **counts: int) -> bool:
    """Record how far the current job is (``fraction`` in 0..1, an optional message and counters).

    Returns False (and does nothing) outside a worker, so handlers stay callable as plain functions.
    """
    job = get_current_job()
    if job is None:
        return False
    progress: dict[str, object] = {"fraction": round(max(0.0, min(1.0, float(fraction))), 4)}
    if message is not None:
        progress["message"] = message[:500]
    progress.update(counts)
    job.meta["progress"] = progress
    job.save_meta()
    return True
