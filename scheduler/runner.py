"""How a scheduled task's run becomes an RQ job, and what that job does when a worker runs it.

The scheduler only enqueues; workers only execute. :func:`enqueue_run` builds an RQ job whose function
is :func:`run_scheduled` (the worker imports it by path), with a deterministic job id per occurrence and
RQ's ``unique=True``, so an occurrence can be enqueued at most once even if two scheduler processes try.
Retries are RQ's own ``Retry`` built from the task's ``maxRetries``/``retryDelay``/``backoff``.
:func:`run_scheduled` records the attempt in the execution history, updates the task's status, calls the
registered handler with the task's ``params``, and re-raises failures so RQ's retry lifecycle applies.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Queue, get_current_job
from rq.exceptions import DuplicateJobError
from rq.job import Job

from jobs.handler_context import job_settings
from jobs.outcome import raise_if_failed
from jobs.registry import registry
from jobs.settings import Settings
from jobs.worker.error_summary import summarize
from jobs.worker.rq_compat import get_unique_enqueue_script, job_hset_args, prepare_for_queue
from scheduler import attempts, task_log
from scheduler.executions import ExecutionLog
from scheduler.health import deadline, expect
from scheduler.store import TaskStore
from scheduler.tasks import Task, ms

RUNNER = "scheduler.runner.run_scheduled"
RESULT_SUMMARY_CHARS = 1000  # how much of a run's result the history keeps


def now() -> datetime:
    """The runner's clock (aware UTC): every wall-clock time a run records or plans by is read here,
    so tests replace this one function instead of waiting (durations use ``time.monotonic``)."""
    return datetime.now(UTC)


def job_id_for(task_id: str, occurrence: float) -> str:
    """The RQ job id of one occurrence: the same occurrence always gets the same id."""
    return f"sched-{task_id}-{round(occurrence * 1000)}"


def build_run(
    connection: Redis,
    settings: Settings,
    task: Task,
    job_id: str,
    *,
    occurrence_ms: int | None,
    lateness_ms: float | None = None,
    queues: dict[str, Queue] | None = None,
) -> tuple[Queue, Job]:
    """The RQ job of one run of ``task`` (not yet saved) and the queue it goes to."""
    spec = registry.get(task.definition.handler)
    policy = task.definition.retry_policy()
    queues = {} if queues is None else queues
    queue = queues.get(spec.queue) or queues.setdefault(spec.queue, Queue(spec.queue, connection=connection))
    job = queue.create_job(
        RUNNER,
        kwargs={
            "task_id": task.id,
            "occurrence_ms": occurrence_ms,
            "lateness_ms": lateness_ms,
            "grace": settings.scheduler.missed_grace,
        },
        timeout=spec.timeout or settings.worker.job_timeout,
        result_ttl=settings.worker.result_ttl,
        failure_ttl=settings.worker.failure_ttl,
        description=f"{task.definition.name} ({spec.name})",
        job_id=job_id,
        meta={"task": spec.name, "scheduled_task": task.id, "max_retries": policy.max_retries},
        retry=policy.to_rq(),
    )
    return queue, job


def enqueue_run(
    connection: Redis,
    settings: Settings,
    task: Task,
    job_id: str,
    *,
    occurrence_ms: int | None,
    lateness_ms: float | None = None,
) -> Job | None:
    """Enqueue one run of ``task``; None when a job with ``job_id`` already exists (already fired)."""
    queue, job = build_run(
        connection, settings, task, job_id, occurrence_ms=occurrence_ms, lateness_ms=lateness_ms
    )
    try:
        return queue.enqueue_job(job, unique=True)
    except DuplicateJobError:
        return None


def enqueue_runs(connection: Redis, runs: list[tuple[Queue, Job]]) -> list[bool]:
    """Enqueue many runs in one round trip; True for each job created, False for an existing id.

    Goes around ``Queue.enqueue_job(unique=True)`` on purpose: RQ runs its unique-enqueue Lua script
    alone and ignores pipelines, so 100 tasks due in the same second cost 100 sequential round trips
    (measured: p99 lateness 137 ms). We run RQ's own script (``rq.scripts``) for every job in one
    pipeline, after RQ's own job preparation. These are RQ internals, reached through
    ``jobs.worker.rq_compat`` (checked by its contract test); the integration tests run every job this
    builds through a real worker.
    """
    if not runs:
        return []
    script = get_unique_enqueue_script(connection)
    with connection.pipeline(transaction=False) as pipe:
        for queue, job in runs:
            prepare_for_queue(queue, job)
            pipe.sadd(queue.redis_queues_keys, queue.key)
            ttl = job.ttl if job.ttl is not None else -1
            script(keys=[job.key, queue.key], args=[job.id, "R", ttl, *job_hset_args(job)], client=pipe)
        results = pipe.execute()
    return [bool(created) for created in results[1::2]]


def _summary(value: Any) -> Any:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)[:RESULT_SUMMARY_CHARS]
    return value if len(text) <= RESULT_SUMMARY_CHARS else text[:RESULT_SUMMARY_CHARS] + "..."


def run_scheduled(
    task_id: str, occurrence_ms: int | None = None, lateness_ms: float | None = None, grace: float = 60.0
) -> Any:
    """The RQ job of a scheduled run. Returns the handler's result; raises what the handler raised."""
    job = get_current_job()
    assert job is not None, "run_scheduled runs inside an RQ worker"
    connection = job.connection
    store, history = TaskStore(connection, grace), ExecutionLog(connection)
    task = store.get(task_id)
    if task is None:
        return {"skipped": "the task was deleted"}
    max_retries = int(job.meta.get("max_retries", 0))
    retries_left = job.retries_left if job.retries_left is not None else 0
    attempt = max_retries - retries_left + 1
    if attempt > 1:
        attempts.wait_until_due(job, task.definition, attempt - 1, clock=lambda: now().timestamp())
    started = now()
    execution: dict[str, Any] = {
        "id": f"{job.id}-{attempt}",
        "taskId": task_id,
        "jobId": job.id,
        "status": "running",
        "startTime": ms(started),
        "duration": None,
        "error": None,
        "result": None,
        "attempt": attempt,
        "occurrence": occurrence_ms,
        "lateness": lateness_ms if attempt == 1 else None,
    }
    history.record(task_id, execution)
    running = {"lastRun": str(execution["startTime"])}
    if attempt > 1:
        running["lastRetry"] = str(execution["startTime"])
    store.set_status(task_id, "running", currentJob=job.id, **running)
    clock = time.monotonic()
    task_log.started(task.definition.name)
    try:
        result = raise_if_failed(registry.get(task.definition.handler).func(**task.definition.params))
    except Exception as error:
        will_retry = retries_left > 0
        execution.update(
            status="retry-scheduled" if will_retry else "failed",
            duration=round((time.monotonic() - clock) * 1000, 3),
            error=summarize(type(error), error),
        )
        task_log.failed(task.definition.name, execution["duration"], execution["error"], will_retry)
        history.record(task_id, execution)
        now_ms = ms(now())
        if will_retry:
            attempts.note_retry(job, task.definition, attempt, now_ms)
        store.set_status(
            task_id,
            execution["status"],
            retryCount=str(attempts.retry_count_after_failure(attempt, max_retries, will_retry)),
            lastExecution=json.dumps(_last(execution)),
            currentJob=job.id if will_retry else "",
        )
        if not will_retry:
            history.add_dead_letter(job.id, now_ms)
        raise
    execution.update(
        status="completed", duration=round((time.monotonic() - clock) * 1000, 3), result=_summary(result)
    )
    task_log.completed(task.definition.name, execution["duration"])
    history.record(task_id, execution)
    status = "active" if task.definition.recurring else "completed"
    store.set_status(
        task_id,
        status,
        retryCount="0",
        lastExecution=json.dumps(_last(execution)),
        currentJob="",
        lastSuccessAt=str(ms(now())),
    )
    if task.definition.on_success:
        run_follower(connection, task.definition.on_success, job.id, grace)
    current = store.get(task_id)
    if task.definition.recurring and current is not None and current.status != "paused":
        finished = now()
        expect(
            connection,
            task_id,
            deadline(task.schedule(finished), finished, grace, task.definition.missed_window),
        )
    return result


def run_follower(connection: Redis, follower_id: str, after_job_id: str, grace: float) -> Job | None:
    """Enqueue a run of the task named by ``onSuccess`` once a run (``after_job_id``) completed.

    The job id derives from the predecessor's, so a predecessor retried after a crash between the two
    steps cannot start the follower twice. A follower deleted meanwhile is skipped."""
    follower = TaskStore(connection, grace).get(follower_id)
    if follower is None:
        return None
    settings = job_settings()
    return enqueue_run(
        connection, settings, follower, f"{after_job_id}-then-{follower.id}", occurrence_ms=None
    )


def _last(execution: dict[str, Any]) -> dict[str, Any]:
    """The scheduled-task API's ``lastExecution`` summary of an execution record."""
    return {
        "status": execution["status"],
        "time": execution["startTime"],
        "duration": execution["duration"],
        "error": execution["error"],
        "attempt": execution["attempt"],
    }
