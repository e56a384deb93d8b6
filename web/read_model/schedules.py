"""Scheduled tasks as /admin/scheduler and the schedules pages see them: listings, one task, its
executions, the scheduler's health and the scheduler's dead letters; for the task form, the next runs
of a schedule and what each registered handler takes.

Both the API and the pages read here, so a task reads the same in both (camelCase, as
:meth:`scheduler.tasks.Task.to_api` shapes it). ``now`` is always a parameter: the callers take it from
the app's one clock (``Taskyard.now``).
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any

from redis import Redis
from rq.job import Job

from jobs.registry import registry
from jobs.settings import Settings
from scheduler.cron import ScheduleError, parse_schedule
from scheduler.executions import ExecutionLog
from scheduler.store import TaskStore
from scheduler.tasks import Task
from web.errors import ApiError
from web.read_model.liveness import alive_schedulers, missed_schedules
from web.read_model.queries import error_summary

TASK_EXECUTIONS = 5  # newest executions shown on a task; the whole history is at /executions
LONGEST_ID = 200  # longer ids are never looked up
PREVIEW_RUNS = 5  # next runs the task form previews


def task_store(connection: Redis, settings: Settings) -> TaskStore:
    """The store with this deployment's missed-schedule grace (what ``nextRun`` and deadlines use)."""
    return TaskStore(connection, settings.scheduler.missed_grace)


def get_task(connection: Redis, settings: Settings, task_id: str) -> Task:
    """The task, or a 404 ApiError (also for ids too long to be one)."""
    task = task_store(connection, settings).get(task_id) if len(task_id) <= LONGEST_ID else None
    if task is None:
        raise ApiError(404, "task_not_found", f"no scheduled task {task_id!r}")
    return task


def task_views(connection: Redis, tasks: list[Task], now: datetime) -> list[dict[str, Any]]:
    """Tasks as the API shows them, each with its newest :data:`TASK_EXECUTIONS` executions (the
    design note's ``executions``; the full history is at ``/executions``)."""
    latest = ExecutionLog(connection).latest_many([t.id for t in tasks], TASK_EXECUTIONS)
    return [{**task.to_api(now), "executions": latest[task.id]} for task in tasks]


def task_view(connection: Redis, task: Task, now: datetime) -> dict[str, Any]:
    return task_views(connection, [task], now)[0]


def task_page(
    connection: Redis,
    settings: Settings,
    page: int,
    per_page: int,
    now: datetime,
    *,
    status: str | None = None,
    handler: str | None = None,
    name: str | None = None,
    executions: bool = True,
) -> dict[str, Any]:
    """One page of tasks (filtered by status, handler, a piece of the name); ``executions=False``
    leaves out each task's newest executions (the list page does not show them)."""
    tasks, total = task_store(connection, settings).page(page, per_page, status, handler, name)
    items = task_views(connection, tasks, now) if executions else [t.to_api(now) for t in tasks]
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def executions_page(
    connection: Redis, task_id: str, page: int, per_page: int, status: str | None = None
) -> dict[str, Any]:
    """One page of a task's run history, newest first."""
    items, total = ExecutionLog(connection).page(task_id, page, per_page, status)
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def scheduler_health(connection: Redis, settings: Settings, now: datetime) -> dict[str, Any]:
    """Is scheduling working: a live leader, scheduling enabled, no task past its deadline."""
    missed = missed_schedules(connection, now)
    schedulers = alive_schedulers(connection, settings, now)
    leader = next((s["name"] for s in schedulers if s["leader"]), None)
    problems = [f"task {m['name']} missed its schedule (deadline {m['deadline']})" for m in missed]
    if leader is None:
        problems.append("no scheduler is running: scheduled tasks and delayed retries wait until one starts")
    if not settings.scheduler.enabled:
        problems.append("ENABLE_TASK_SCHEDULING is false: scheduled tasks do not fire")
    return {"healthy": not problems, "schedulingEnabled": settings.scheduler.enabled,
            "leader": leader, "missed": missed, "problems": problems}  # fmt: skip


def dead_letters_page(connection: Redis, settings: Settings, page: int, per_page: int) -> dict[str, Any]:
    """Scheduled runs that failed for good, newest first, with their task and last error."""
    letters, total = ExecutionLog(connection).dead_letters(page, per_page)
    ids = [job_id for job_id, _ in letters]
    jobs = dict(zip(ids, Job.fetch_many(ids, connection=connection), strict=True))
    store = task_store(connection, settings)
    items = []
    for job_id, failed_at in letters:
        job = jobs[job_id]
        task_id = job.meta.get("scheduled_task") if job else None
        task = store.get(task_id) if task_id else None
        items.append({"jobId": job_id, "taskId": task_id, "taskName": task.definition.name if task else None,
                      "failedAt": failed_at, "error": error_summary(job) if job else None})  # fmt: skip
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def next_runs(expression: str, timezone: str, now: datetime, count: int = PREVIEW_RUNS) -> dict[str, Any]:
    """``{"runs": [...aware UTC datetimes], "description": str}`` or ``{"error": message}``."""
    try:
        schedule = parse_schedule(expression, timezone or "UTC", now=now)
    except (ScheduleError, ValueError) as error:
        return {"error": str(error), "runs": []}
    runs: list[datetime] = []
    moment: datetime | None = schedule.first_run(now)
    while moment is not None and len(runs) < count:
        runs.append(moment)
        if not schedule.recurring:
            break
        moment = schedule.next_after(moment)
    return {"runs": runs, "description": schedule.describe(), "tz": schedule.tz.key, "error": None}


def handler_views() -> list[dict[str, Any]]:
    """Every registered task as the form's handler list shows it: name, description, parameters."""
    views = []
    for spec in registry:
        try:
            signature = inspect.signature(spec.func)
            params = [
                {
                    "name": p.name,
                    "required": p.default is inspect.Parameter.empty,
                    "default": None if p.default is inspect.Parameter.empty else repr(p.default),
                    "type": getattr(p.annotation, "__name__", str(p.annotation))
                    if p.annotation is not p.empty
                    else "",
                }
                for p in signature.parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
        except (AttributeError, TypeError, ValueError):
            params = []
        views.append({"name": spec.name, "description": spec.description, "params": params})
    return views
