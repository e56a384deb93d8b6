"""Job state changes shared by the REST API and the pages: fetch, requeue, delete, cancel, one by one or many.

Many at once (:func:`act_on_jobs`) names the jobs by id or by the listing's filters (``status``
defaults to ``failed``: the bulk actions exist to clear failures); filtered jobs are found through the
same read model as ``GET /api/v1/jobs``, at most ``limit`` a call, and ``more`` says to call again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Queue
from rq.command import send_stop_job_command
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from jobs import keys
from jobs.settings import Settings
from scheduler.executions import ExecutionLog
from web.api.job_schemas import JobAction, check_queue
from web.api.schemas import JOB_ID_PATTERN
from web.errors import ApiError
from web.read_model.job_search import FILTER_FIELDS, MAX_LIMIT, JobFilter
from web.read_model.queries import list_jobs

REQUEUEABLE = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
REPLAYED_KEPT = 200  # recently requeued job ids remembered for the dead-letters page
MAX_PAGES = 50  # listing pages read to gather one bulk call's jobs (each examines a bounded window)


def fetch_job(connection: Redis, job_id: str) -> Job:
    """The job, or a 404 ApiError (also for ids that could never be job ids)."""
    if not re.fullmatch(JOB_ID_PATTERN, job_id):  # match() would let "id\n" through to RQ
        raise ApiError(404, "job_not_found", f"no job {job_id!r}")
    try:
        return Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        raise ApiError(404, "job_not_found", f"no job {job_id!r}") from None


def requeue(connection: Redis, job: Job) -> Job:
    """Put a failed, stopped or canceled job back on its queue (a 409 ApiError otherwise).

    A failed run of a scheduled task also leaves the scheduler's dead-letter list.
    """
    status = job.get_status()
    if status not in REQUEUEABLE:
        raise ApiError(
            409,
            "not_requeueable",
            f"job {job.id!r} is {status.value}; only failed, stopped or canceled jobs go back to their queue",
        )
    if status == JobStatus.FAILED:
        job.requeue()
    else:
        Queue(job.origin, connection=connection).enqueue_job(job)
    ExecutionLog(connection).remove_dead_letter(job.id)
    job.refresh()
    job.meta["requeued_at"] = datetime.now(UTC).isoformat()
    job.save_meta()
    with connection.pipeline() as pipe:  # the dead-letters page shows what became of recent replays
        pipe.lrem(keys.REPLAYED, 0, job.id)
        pipe.lpush(keys.REPLAYED, job.id)
        pipe.ltrim(keys.REPLAYED, 0, REPLAYED_KEPT - 1)
        pipe.execute()
    return job


def delete(connection: Redis, job: Job) -> None:
    """Delete a job that is not running (a 409 ApiError for a started one: cancel it first).

    RQ's ``Job.delete`` removes it from its queue or registry too; a failed run of a scheduled task also
    leaves the scheduler's dead-letter list."""
    status = job.get_status()
    if status == JobStatus.STARTED:
        raise ApiError(409, "job_running", f"job {job.id!r} is running; cancel it before deleting it")
    job.delete()
    ExecutionLog(connection).remove_dead_letter(job.id)


def apply_to_many(connection: Redis, job_ids: list[str], action: str, dry_run: bool) -> dict[str, Any]:
    """``requeue`` or ``delete`` each job; per-job errors are collected, not raised.

    A dry run checks what the action would refuse (unknown ids, wrong status) without changing anything,
    so its ``done`` is 0 and its ``errors`` are the ones the real call would report."""
    jobs = Job.fetch_many(job_ids, connection=connection)
    done: list[str] = []
    errors: list[dict[str, Any]] = []
    for job_id, job in zip(job_ids, jobs, strict=True):
        if job is None:
            errors.append({"id": job_id, "code": "job_not_found", "message": f"no job {job_id!r}"})
            continue
        try:
            if action == "requeue":
                if dry_run:
                    _check_requeueable(job)
                else:
                    requeue(connection, job)
            elif dry_run:
                if job.get_status() == JobStatus.STARTED:
                    raise ApiError(409, "job_running", f"job {job.id!r} is running; cancel it first")
            else:
                delete(connection, job)
        except ApiError as error:
            errors.append({"id": job_id, "code": error.code, "message": error.message})
            continue
        done.append(job_id)
    return {"ids": done, "errors": errors}


def matching_ids(connection: Redis, flt: JobFilter, limit: int) -> tuple[list[str], bool]:
    """Ids of up to ``limit`` jobs matching ``flt``, newest first, and whether more may match."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = list_jobs(connection, flt, min(MAX_LIMIT, limit - len(ids)), cursor)
        ids.extend(job.id for job, _ in page.jobs)
        cursor = page.next_cursor
        if cursor is None or len(ids) >= limit:
            break
    return ids[:limit], cursor is not None


def act_on_jobs(connection: Redis, settings: Settings, action: str, body: JobAction) -> dict[str, Any]:
    """Run ``action`` (``requeue`` or ``delete``) on the jobs ``body`` names: what matched, what was
    done, what was refused and whether more match."""
    if body.ids is not None:
        given = [name for name in FILTER_FIELDS if getattr(body, name) is not None]
        if given:
            raise ApiError(400, "validation_error", f"give ids or filters, not both (got {', '.join(given)})")
        ids, more = list(dict.fromkeys(body.ids))[: body.limit], False
    else:
        check_queue(body.queue, settings.worker.queues)
        ids, more = matching_ids(connection, body.to_filter(settings.worker.queues, ("failed",)), body.limit)
    outcome = apply_to_many(connection, ids, action, body.dry_run)
    return {
        "action": action,
        "dry_run": body.dry_run,
        "matched": len(ids),
        "done": 0 if body.dry_run else len(outcome["ids"]),
        "ids": outcome["ids"],
        "errors": outcome["errors"],
        "more": more,
    }


def _check_requeueable(job: Job) -> None:
    status = job.get_status()
    if status not in REQUEUEABLE:
        raise ApiError(409, "not_requeueable", f"job {job.id!r} is {status.value}")


CANCELABLE = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.CREATED)


def cancel(connection: Redis, job: Job) -> Job:
    """Cancel a pending job or ask the worker to stop a running one (a 409 ApiError otherwise)."""
    status = job.get_status()
    if status == JobStatus.STARTED:
        send_stop_job_command(connection, job.id)
    elif status in CANCELABLE:
        job.cancel()
    else:
        raise ApiError(
            409, "not_cancelable", f"job {job.id!r} is {status.value}; only pending or running jobs cancel"
        )
    job.refresh()
    return job
