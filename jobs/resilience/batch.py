"""Batch jobs with partial failure (a daily maintenance check over many items).

:func:`run_batch` applies a function to many items inside one job: an item that raises is counted and
logged, not fatal, so one bad item never fails the whole batch. It reports progress into the job as it
goes (visible in ``GET /api/v1/jobs/<id>``), logs the counts and the duration at the end, and returns
the partial results with the first errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jobs.progress import report_progress
from jobs.worker.error_summary import summarize

T = TypeVar("T")
log = logging.getLogger("taskyard.batch")
MAX_ERRORS = 50  # item errors kept in the result
PROGRESS_EVERY = 0.5  # seconds between progress reports (each one is a Redis write)


@dataclass
class BatchResult:
    """Counts, the results of the items that succeeded, and the first :data:`MAX_ERRORS` errors."""

    name: str
    total: int
    processed: int = 0
    failed: int = 0
    duration: float = 0.0
    results: list[Any] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "total": self.total, "processed": self.processed, "failed": self.failed,
                "duration": round(self.duration, 3), "errors": self.errors}  # fmt: skip


def run_batch(
    name: str,
    items: Iterable[T] | Sequence[T],
    work: Callable[[T], Any],
    *,
    keep_results: bool = True,
    clock: Callable[[], float] = time.monotonic,
) -> BatchResult:
    """Run ``work(item)`` for every item; failures are counted, not raised."""
    items = list(items)
    result = BatchResult(name, len(items))
    started = last_report = clock()
    for index, item in enumerate(items, start=1):
        try:
            value = work(item)
        except Exception as error:
            result.failed += 1
            if len(result.errors) < MAX_ERRORS:
                result.errors.append({"item": repr(item)[:200], "error": summarize(type(error), error)})
            log.warning("batch %s: item %r failed: %s", name, item, error)
        else:
            result.processed += 1
            if keep_results:
                result.results.append(value)
        if clock() - last_report >= PROGRESS_EVERY or index == len(items):
            last_report = clock()
            report_progress(index / len(items), f"{name}: {index}/{len(items)}",
                            processed=result.processed, failed=result.failed)  # fmt: skip
    result.duration = clock() - started
    log.info("batch %s: %d processed, %d failed of %d in %.3fs",
             name, result.processed, result.failed, result.total, result.duration)  # fmt: skip
    return result
