"""Retry accounting of scheduled runs: how many retries a task has used, and never retrying early.

The design note for scheduled tasks describes the lifecycle: on a failure with retries left the task
goes to ``retry-scheduled`` and its retry counter goes up; after the last retry it is ``failed``. So
``retryCount`` counts retries *scheduled*, and can never exceed ``maxRetries``: the final failure does
not add one (it used to, showing ``retryCount: 3`` for ``maxRetries: 2``).

``retryDelay`` is a promise that a retry never starts before the delay has passed. RQ schedules a
retry at ``now + interval`` in its ``ScheduledJobRegistry``, whose scores are whole seconds rounded
*down*, and RQ's intervals are whole seconds (``RetryPolicy.schedule`` rounds): a retry could start up
to ~1.5 s early (0.15 s was seen). So the failing attempt notes the earliest start it owes
(``retry_not_before`` in the job's meta, epoch ms), and the retry waits out any remainder before it runs
the handler. The wait is bounded by the task's own retry delay and is zero once the registry is
precise; the execution's ``startTime`` is taken after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rq.job import Job

from scheduler.tasks import Definition

NOT_BEFORE = "retry_not_before"  # job.meta key: epoch ms before which the next attempt must not start


def retry_count_after_failure(attempt: int, max_retries: int, will_retry: bool) -> int:
    """The task's ``retryCount`` once attempt ``attempt`` (1-based) of a run failed: the retries this
    run has scheduled, never above ``maxRetries``. Counted per run, so a new occurrence failing after an
    exhausted one starts again at 1."""
    return max(0, min(attempt if will_retry else attempt - 1, max_retries))


def delay_ms(definition: Definition, retry_number: int) -> float:
    """The task's own delay before retry ``retry_number`` (1-based), in ms, without jitter."""
    return definition.retry_policy().delay_for(retry_number, rand=lambda: 0.5) * 1000


def note_retry(job: Job, definition: Definition, retry_number: int, failed_at_ms: float) -> None:
    """Record on ``job`` that retry ``retry_number`` must not start before its delay has passed."""
    job.meta[NOT_BEFORE] = failed_at_ms + delay_ms(definition, retry_number)
    job.save_meta()


def wait_until_due(
    job: Job,
    definition: Definition,
    retry_number: int,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Before a retry runs: wait until its earliest start (if RQ released it early); returns seconds
    waited. Never waits longer than the retry's own delay."""
    not_before = job.meta.get(NOT_BEFORE)
    if not isinstance(not_before, int | float):
        return 0.0
    remaining = min(not_before / 1000 - clock(), delay_ms(definition, retry_number) / 1000)
    if remaining <= 0:
        return 0.0
    sleep(remaining)
    return remaining
