"""Job dependencies: a job that waits for others, with RQ's own ``Dependency`` semantics.

The task-scheduling design note plans "Task Dependencies: Sequential task execution". RQ has them:
a job created with ``depends_on`` is ``deferred`` (in the queue's DeferredJobRegistry) until every job
it depends on has finished, then the worker that finished the last one enqueues it. With
``allow_failure`` a dependency that *failed* (for good, after its retries) counts as done too; without
it a failed dependency leaves the dependent deferred (RQ's rule; delete or requeue it by hand).

What we check before RQ sees it, so a mistake is a 400 and not a job deferred forever: every id names
an existing job, and ``depends_on`` is not combined with ``delay_seconds``/``run_at`` (RQ's scheduled
registry ignores dependencies) or a ``job_id`` (RQ's unique enqueue refuses dependencies).
"""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis
from rq.job import Dependency, Job

MAX_DEPENDENCIES = 100  # ids one job may wait for


class DependencyProblem(ValueError):
    """``depends_on`` cannot be honoured as given; the message says why."""


def dependency_for(
    connection: Redis,
    job_ids: Sequence[str],
    allow_failure: bool,
    *,
    delayed: bool = False,
    job_id: str | None = None,
) -> Dependency:
    """RQ's ``Dependency`` on ``job_ids``, after the checks in the module docstring."""
    if not job_ids:
        raise DependencyProblem("depends_on: name at least one job id")
    if len(job_ids) > MAX_DEPENDENCIES:
        raise DependencyProblem(f"depends_on: at most {MAX_DEPENDENCIES} job ids")
    if delayed:
        raise DependencyProblem("depends_on cannot be combined with delay_seconds or run_at")
    if job_id is not None:
        raise DependencyProblem("depends_on cannot be combined with job_id (RQ's unique enqueue)")
    with connection.pipeline(transaction=False) as pipe:
        for dependency_id in job_ids:
            pipe.exists(Job.key_for(dependency_id))
        found = pipe.execute()
    missing = [dependency_id for dependency_id, exists in zip(job_ids, found, strict=True) if not exists]
    if missing:
        raise DependencyProblem(f"depends_on: no job {', '.join(repr(m) for m in missing)}")
    return Dependency(jobs=list(dict.fromkeys(job_ids)), allow_failure=allow_failure)
