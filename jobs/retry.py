"""Retry policies: data, turned into RQ's own ``Retry`` when a job is enqueued.

The lifecycle of a failing job
------------------------------
1. A task declares a :class:`RetryPolicy` (or inherits the deployment default built from
   ``JOB_MAX_RETRIES`` / ``JOB_RETRY_DELAY``). A REST caller may lower or raise the number of retries
   for one job with ``max_retries``.
2. At enqueue time the policy becomes ``rq.Retry(max=N, interval=[d1, d2, ...])``. The delays are
   computed then, jitter included, so every job carries its own schedule and two jobs that failed
   together do not retry in lockstep (the thundering herd).
3. When the job raises, the RQ worker consumes one retry: with a delay of 0 the job goes straight back
   to its queue; otherwise it is put in the queue's ``ScheduledJobRegistry`` at now + delay, to the
   millisecond (our workers hand RQ a ``jobs.delayed.PreciseQueue``).
4. The ``scheduler`` process moves due jobs from every ScheduledJobRegistry back onto their queues on
   their due time (``scheduler/delayed_jobs.py``: RQ's own moving code, driven by our leader loop).
   Without a running scheduler a delayed retry would wait forever, so ``/healthz`` reports delayed
   jobs waiting while no scheduler heartbeat is fresh.
5. ``Retry(max=N)`` means N+1 attempts in all. After the last one the job stays in the queue's
   ``FailedJobRegistry`` for ``FAILURE_TTL`` seconds: the dead-letter list, replayable with
   ``POST /api/v1/jobs/<id>/requeue``.
6. A job whose worker died (SIGKILL, OOM) is found by RQ's registry cleanup once its heartbeat lapses
   and is retried the same way if it has retries left, otherwise failed with ``AbandonedJobError``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from rq import Retry

MAX_RETRIES_LIMIT = 25  # more than this is a configuration mistake, not a retry policy
MAX_DELAY = 7 * 24 * 3600  # no single retry waits longer than a week


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long apart a failing job is tried again.

    ``backoff`` is ``"fixed"`` (every retry waits ``delay`` seconds), ``"exponential"`` (``delay``,
    ``2*delay``, ``4*delay``... capped at ``max_delay``) or ``"list"`` (the explicit ``delays``; when
    there are more retries than delays the last one repeats, as RQ does). ``jitter`` is the fraction of
    each delay that is randomised (0.1 = +/-10 %).
    """

    max_retries: int = 0
    backoff: str = "fixed"
    delay: float = 0
    delays: tuple[float, ...] = ()
    jitter: float = 0.0
    max_delay: float = MAX_DELAY

    def __post_init__(self) -> None:
        if not 0 <= self.max_retries <= MAX_RETRIES_LIMIT:
            raise ValueError(f"max_retries must be between 0 and {MAX_RETRIES_LIMIT}")
        if self.backoff not in ("fixed", "exponential", "list"):
            raise ValueError("backoff must be fixed, exponential or list")
        if self.backoff == "list" and not self.delays:
            raise ValueError("a list backoff needs at least one delay")
        if self.delay < 0 or any(d < 0 for d in self.delays):
            raise ValueError("delays cannot be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction between 0 and 1")

    def with_max_retries(self, max_retries: int) -> RetryPolicy:
        """The same policy with another retry count (a per-job override)."""
        return RetryPolicy(max_retries, self.backoff, self.delay, self.delays, self.jitter, self.max_delay)

    def delay_for(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based), jitter applied."""
        if retry_number < 1:
            raise ValueError("retry numbers start at 1")
        if self.backoff == "fixed":
            base = self.delay
        elif self.backoff == "exponential":
            base = self.delay * (2 ** (retry_number - 1))
        else:
            base = self.delays[min(retry_number, len(self.delays)) - 1]
        base = min(base, self.max_delay)
        if self.jitter:
            base *= 1 + self.jitter * (2 * rand() - 1)
        return max(0.0, base)

    def schedule(self, rand: Callable[[], float] = random.random) -> list[int]:
        """Every retry's delay in whole seconds (RQ's interval unit), in order."""
        return [round(self.delay_for(n, rand)) for n in range(1, self.max_retries + 1)]

    def to_rq(self, rand: Callable[[], float] = random.random) -> Retry | None:
        """RQ's ``Retry`` for one job, or ``None`` when the policy never retries."""
        if self.max_retries == 0:
            return None
        return Retry(max=self.max_retries, interval=self.schedule(rand))


NO_RETRY = RetryPolicy()
