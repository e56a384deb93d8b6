"""Dead letters grouped: the part of the read model behind the dead-letters page and
``GET /api/v1/dead-letters``.

A dead letter is a job that failed for good (RQ's failed registries) or a webhook delivery that used
up its retries. A failed delivery's last attempt is also a failed RQ job (meta ``delivery_id``); it is
counted once, as the delivery, so the job side skips it. Jobs are grouped by (task, scheduled task)
over the newest :data:`GROUPED` failures of each queue, so the page stays cheap with a million
failures; ``total`` is the exact number of failed jobs.
"""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.utils import as_text

from jobs import keys
from jobs.webhooks.store import WebhookStore
from scheduler.store import TaskStore
from web.read_model.queries import error_summary
from web.read_model.times import aware

GROUPED = 2000  # newest failures per queue looked at for the groups
KINDS = ("job", "webhook")


def is_delivery_job(job: Job) -> bool:
    """A webhook delivery attempt's job: shown as the delivery, never twice."""
    return bool(job.meta.get("delivery_id"))


def job_groups(
    connection: Redis,
    queue_names: tuple[str, ...],
    task: str | None = None,
    scheduled_task: str | None = None,
) -> dict[str, Any]:
    """Failed jobs grouped by (task, scheduled task), most first (each with its job ``ids``), with the
    exact total of failed jobs and how many failures were looked at."""
    with connection.pipeline() as pipe:
        for name in queue_names:
            key = FailedJobRegistry(name, connection=connection).key
            pipe.zcard(key)
            pipe.zrevrange(key, 0, GROUPED - 1)
        raw = pipe.execute()
    total = sum(raw[0::2])
    ids = [as_text(i) for chunk in raw[1::2] for i in chunk]
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for job in Job.fetch_many(ids, connection=connection):
        if job is None or is_delivery_job(job):
            continue
        name = job.meta.get("task") or job.func_name or "?"
        origin = job.meta.get("scheduled_task")
        if (task and name != task) or (scheduled_task and origin != scheduled_task):
            continue
        group = groups.setdefault(
            (name, origin),
            {"kind": "job", "task": name, "scheduled_task": origin, "scheduled_task_name": None,
             "count": 0, "latest_at": None, "latest_error": None, "latest_id": None, "ids": []},
        )  # fmt: skip
        group["count"] += 1
        group["ids"].append(job.id)
        ended = aware(job.ended_at)
        if group["latest_at"] is None or (ended and ended > group["latest_at"]):
            group.update(latest_at=ended, latest_error=error_summary(job), latest_id=job.id)
    origins = [g["scheduled_task"] for g in groups.values() if g["scheduled_task"]]
    names = {t.id: t.definition.name for t in TaskStore(connection).get_many(origins)} if origins else {}
    for group in groups.values():
        group["scheduled_task_name"] = names.get(group["scheduled_task"])
    ordered = sorted(groups.values(), key=lambda g: (-g["count"], g["task"], g["scheduled_task"] or ""))
    return {"groups": ordered, "total": total, "looked_at": len(ids)}


def failed_delivery_ids(connection: Redis, limit: int) -> tuple[list[str], int]:
    """Ids of the newest ``limit`` failed webhook deliveries, and how many there are."""
    deliveries, total = WebhookStore(connection).list_deliveries(None, "failed", 1, limit)
    return [d.id for d in deliveries], total


def recently_replayed(connection: Redis, limit: int = 20) -> list[dict[str, Any]]:
    """The newest replayed jobs and what became of them (status now, attempts, latest error)."""
    ids = [as_text(i) for i in connection.lrange(keys.REPLAYED, 0, limit - 1)]
    rows = []
    for job_id, job in zip(ids, Job.fetch_many(ids, connection=connection), strict=True):
        if job is None:
            rows.append({"id": job_id, "status": "gone", "task": None, "replayed_at": None, "error": None})
            continue
        status = job.get_status(refresh=False)
        rows.append(
            {
                "id": job.id,
                "task": job.meta.get("task") or job.func_name,
                "status": status.value if isinstance(status, JobStatus) else str(status),
                "replayed_at": job.meta.get("requeued_at"),
                "error": error_summary(job) if status == JobStatus.FAILED else None,
            }
        )
    return rows
