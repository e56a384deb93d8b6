"""One job in full, as the job page shows it: the part of the read model behind /dashboard/jobs/<id>.

:func:`web.read_model.queries.job_view` is the compact view the API and the lists share; :func:`job_detail` adds
what only a person reading one job needs: the full traceback, every attempt RQ recorded (its
``Result`` history: time, outcome, error), the waiting and running durations, ``meta``, the scheduled
task the job came from and the jobs it depends on or that wait for it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from redis import Redis
from rq.job import Job
from rq.results import Result
from rq.utils import as_text

from scheduler.store import TaskStore
from web.read_model.queries import error_line, job_view
from web.read_model.times import aware

OUTCOMES = {
    Result.Type.SUCCESSFUL: "finished",
    Result.Type.FAILED: "failed",
    Result.Type.STOPPED: "stopped",
    Result.Type.RETRIED: "failed, retried",
    Result.Type.MAX_RETRIES_EXCEEDED: "failed, no retries left",
}
TRACEBACK_CHARS = 20_000  # a traceback is shown up to this length


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def pretty(value: Any) -> str:
    """``value`` as indented JSON (or its repr when it is not JSON); the template escapes it."""
    try:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def attempts(job: Job) -> list[dict[str, Any]]:
    """Every run RQ kept a result for, oldest first: number, time, outcome, error line and traceback."""
    rows = []
    results = list(reversed(job.results()))  # RQ lists newest first
    for number, result in enumerate(results, start=1):
        text = (result.exc_string or "").strip()
        started = aware(result.execution_started_at)
        ended = aware(result.execution_ended_at) or aware(result.created_at)
        rows.append(
            {
                "number": number,
                "at": aware(result.created_at),
                "outcome": OUTCOMES.get(result.type, str(result.type)),
                "ok": result.type == Result.Type.SUCCESSFUL,
                "error": error_line(text),
                "traceback": text[:TRACEBACK_CHARS] or None,
                "duration": _seconds(started, ended),
                "worker": result.worker_name or None,
            }
        )
    return rows


def job_detail(connection: Redis, job: Job, url: str) -> dict[str, Any]:
    """Everything about ``job`` (see the module docstring); ``url`` is its API address."""
    view = job_view(job, url)
    runs = attempts(job)
    traceback = next((run["traceback"] for run in reversed(runs) if run["traceback"]), None)
    if traceback is None and job.exc_info:
        traceback = str(job.exc_info)[:TRACEBACK_CHARS]
    scheduled_task_id = job.meta.get("scheduled_task")
    scheduled_task = None
    if scheduled_task_id:
        task = TaskStore(connection).get(str(scheduled_task_id))
        scheduled_task = {"id": scheduled_task_id, "name": task.definition.name if task else None}
    enqueued, started, ended = view["enqueued_at"], view["started_at"], view["ended_at"]
    return {
        **view,
        "description": job.description,
        "function": job.func_name,
        "timeout": job.timeout,
        "created_at": aware(job.created_at),
        "waited": _seconds(enqueued, started),
        "ran": _seconds(started, ended),
        "traceback": traceback,
        "attempt_list": runs,
        "meta": {k: v for k, v in job.meta.items() if k not in ("progress",)},
        "args_json": pretty(view["args"]),
        "kwargs_json": pretty(view["kwargs"]),
        "result_json": pretty(view["result"]) if view["result"] is not None else None,
        "meta_json": pretty({k: v for k, v in job.meta.items()}),
        "scheduled_task": scheduled_task,
        "depends_on": [as_text(i) for i in job.dependency_ids or []],
        "dependents": sorted(as_text(i) for i in connection.smembers(job.dependents_key)),
        "worker": job.worker_name,
    }
