"""``@rate_limited``: at most N runs per second of a task, or per external host, for any handler.

Stack it under ``@task``::

    @task("crm.sync_contact")
    @rate_limited(per_second=5, key=lambda kwargs: "host:" + host_of(kwargs["url"]))
    def sync_contact(url: str, contact_id: int) -> dict: ...

A run over the limit does not execute and does not fail: it enqueues a delayed copy of itself (same
task, arguments and queue) for when the moving window frees a slot, and returns
``{"deferred": "rate limited", "seconds": ..., "job_id": <the copy>}``. So a limit never burns a retry,
the same deferral the webhook and OAuth jobs use for open breakers. The limiter is
:class:`jobs.resilience.rate_limit.RateLimiter` (moving window, shared by every worker through Redis).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from rq import get_current_job

from jobs.enqueue import JobRequest, enqueue
from jobs.handler_context import job_settings
from jobs.resilience.rate_limit import RateLimiter

F = TypeVar("F", bound=Callable[..., Any])


def rate_limited(per_second: int, key: Callable[[Mapping[str, Any]], str] | None = None) -> Callable[[F], F]:
    """Limit the decorated handler to ``per_second`` runs per second per ``key(kwargs)`` (default: one
    limit for the whole task). Outside a worker (a plain function call) the limit does not apply."""
    if per_second < 1:
        raise ValueError("per_second is at least 1")

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def limited(*args: Any, **kwargs: Any) -> Any:
            job = get_current_job()
            if job is None:
                return func(*args, **kwargs)
            task_name = str(job.meta.get("task") or job.func_name)
            limit_key = key(kwargs) if key else f"task:{task_name}"
            wait = RateLimiter(job.connection).acquire(limit_key, per_second)
            if wait <= 0:
                return func(*args, **kwargs)
            copy = JobRequest(
                task_name,
                args=args,
                kwargs=kwargs,
                queue=job.origin,
                delay_seconds=wait,
                meta={"deferred_from": job.id},
            )
            deferred = enqueue(job.connection, job_settings(), copy).job
            return {"deferred": "rate limited", "seconds": round(wait, 3), "job_id": deferred.id}

        return limited  # type: ignore[return-value]

    return decorate
