"""/admin/scheduler: scheduled tasks as data, managed at runtime (camelCase field names).

Any valid token reads; changes need an admin token (the API's rule, web/security/auth.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.blueprints import BlueprintSetupState
from rq.exceptions import NoSuchJobError
from rq.job import Job
from werkzeug.routing import BaseConverter

from scheduler.executions import EXECUTION_STATUSES, ExecutionLog
from scheduler.runner import enqueue_run
from scheduler.store import NameTaken, TaskStore
from scheduler.tasks import STATUSES, Task, ms
from web.admin.definitions import build_definition as build_definition  # the pages import it here
from web.admin.schemas import ScheduledTaskCreate, ScheduledTaskUpdate
from web.api.body import parse_body
from web.commands.jobs import fetch_job, requeue
from web.errors import ApiError
from web.extension import state
from web.read_model.queries import missed_schedules, scheduler_heartbeats
from web.security.admin_access import admins_only
from web.security.auth import enforce_api_access

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # beyond any real listing; larger offsets overflow Redis's range arguments
TASK_EXECUTIONS = 5  # newest executions shown on a task; the whole history is at /executions


def _now() -> datetime:
    return datetime.now(UTC)


def _store() -> TaskStore:
    ext = state()
    return TaskStore(ext.connection, ext.settings.missed_grace)


def _page_args(statuses: tuple[str, ...]) -> tuple[int, int, str | None]:
    try:
        page = int(request.args.get("page", "1"))
        per_page = int(request.args.get("per_page", "20"))
    except ValueError:
        raise ApiError(400, "validation_error", "page and per_page are whole numbers") from None
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(400, "validation_error", f"page is 1-{MAX_PAGE}; per_page is 1-{MAX_PER_PAGE}")
    status = request.args.get("status") or None
    if status is not None and status not in statuses:
        raise ApiError(400, "validation_error", f"status must be one of {', '.join(statuses)}")
    return page, per_page, status


def _task(task_id: str) -> Task:
    task = _store().get(task_id) if len(task_id) <= 200 else None
    if task is None:
        raise ApiError(404, "task_not_found", f"no scheduled task {task_id!r}")
    return task


def _views(tasks: list[Task]) -> list[dict[str, Any]]:
    """Tasks as the API shows them, each with its newest ``TASK_EXECUTIONS`` executions (the design
    note's ``executions``; the full history is at ``/executions``)."""
    now = _now()
    latest = ExecutionLog(state().connection).latest_many([t.id for t in tasks], TASK_EXECUTIONS)
    return [{**task.to_api(now), "executions": latest[task.id]} for task in tasks]


def _view(task: Task) -> dict[str, Any]:
    return _views([task])[0]


def list_tasks() -> Response:
    page, per_page, status = _page_args(STATUSES)
    tasks, total = _store().page(
        page, per_page, status, request.args.get("handler") or None, request.args.get("name") or None
    )
    return jsonify({"items": _views(tasks), "total": total, "page": page, "per_page": per_page})


def create_task() -> Response:
    body = parse_body(ScheduledTaskCreate)
    now = _now()
    definition = build_definition(body, None, now)
    try:
        task = _store().create(definition, now, status=body.status or "active")
    except NameTaken:
        raise ApiError(409, "name_taken", f"name: a task named {definition.name!r} exists") from None
    response = jsonify(_view(task))
    response.status_code = 201
    response.headers["Location"] = url_for("admin_scheduler.get_task", task_id=task.id)
    return response


def get_task(task_id: str) -> Response:
    return jsonify(_view(_task(task_id)))


def update_task(task_id: str) -> Response:
    task = _task(task_id)
    body = parse_body(ScheduledTaskUpdate)
    now = _now()
    store = _store()
    try:
        updated = store.update(task, build_definition(body, task.definition, now), now)
    except NameTaken:
        raise ApiError(409, "name_taken", f"name: a task named {body.name!r} exists") from None
    if body.status == "paused" and updated.status != "paused":
        store.pause(updated, now)
    elif body.status == "active" and updated.status == "paused":
        store.resume(updated, now)
    return jsonify(_view(_task(task_id)))


def delete_task(task_id: str) -> Response:
    task = _task(task_id)
    _store().delete(task)
    return jsonify({"id": task.id, "deleted": True})


def run_task(task_id: str) -> Response:
    task = _task(task_id)
    ext = state()
    now = _now()
    job = enqueue_run(
        ext.connection, ext.settings, task, f"sched-{task.id}-manual-{ms(now)}", occurrence_ms=None
    )
    if job is None:
        raise ApiError(409, "already_running", "a manual run was started this millisecond; try again")
    _store().set_fields(task.id, currentJob=job.id)
    return _accepted(task.id, {"jobId": job.id, "url": url_for("api_v1.get_job", job_id=job.id)})


def pause_task(task_id: str) -> Response:
    task = _task(task_id)
    _store().pause(task, _now())
    return jsonify(_view(_task(task_id)))


def resume_task(task_id: str) -> Response:
    task = _task(task_id)
    if task.status == "paused":
        _store().resume(task, _now())
    return jsonify(_view(_task(task_id)))


def reset_retries(task_id: str) -> Response:
    """Set ``retryCount`` to 0. A failed recurring task becomes ``active`` again (its schedule goes on);
    a failed one-time task stays ``failed``: it did not succeed, and ``actions/run`` runs it again."""
    task = _task(task_id)
    store = _store()
    store.set_fields(task.id, retryCount="0")
    if task.status in ("failed", "retry-scheduled") and (task.next_run or task.definition.recurring):
        store.set_status(task.id, "active")
    return jsonify(_view(_task(task_id)))


def _accepted(task_id: str, extra: dict[str, Any]) -> Response:
    response = jsonify({**_view(_task(task_id)), "run": extra})
    response.status_code = 202
    return response


def list_executions(task_id: str) -> Response:
    _task(task_id)
    page, per_page, status = _page_args(EXECUTION_STATUSES)
    items, total = ExecutionLog(state().connection).page(task_id, page, per_page, status)
    return jsonify({"items": items, "total": total, "page": page, "per_page": per_page})


def scheduler_health() -> Response:
    ext = state()
    now = _now()
    missed = missed_schedules(ext.connection, now)
    schedulers = [
        s
        for s in scheduler_heartbeats(ext.connection)
        if now.timestamp() - s["at"] <= ext.settings.heartbeat_stale
    ]
    leader = next((s["name"] for s in schedulers if s["leader"]), None)
    problems = [f"task {m['name']} missed its schedule (deadline {m['deadline']})" for m in missed]
    if leader is None:
        problems.append("no scheduler is running: scheduled tasks and delayed retries wait until one starts")
    if not ext.settings.enable_task_scheduling:
        problems.append("ENABLE_TASK_SCHEDULING is false: scheduled tasks do not fire")
    return jsonify({"healthy": not problems, "schedulingEnabled": ext.settings.enable_task_scheduling,
                    "leader": leader, "missed": missed, "problems": problems})  # fmt: skip


def list_dead_letters() -> Response:
    page, per_page, _ = _page_args(())
    ext = state()
    letters, total = ExecutionLog(ext.connection).dead_letters(page, per_page)
    items = []
    for job_id, failed_at in letters:
        try:
            job = Job.fetch(job_id, connection=ext.connection)
        except NoSuchJobError:
            job = None
        task_id = job.meta.get("scheduled_task") if job else None
        task = _store().get(task_id) if task_id else None
        result = job.latest_result() if job else None
        error = result.exc_string.strip().splitlines()[-1] if result and result.exc_string else None
        items.append({"jobId": job_id, "taskId": task_id, "taskName": task.definition.name if task else None,
                      "failedAt": failed_at, "error": error})  # fmt: skip
    return jsonify({"items": items, "total": total, "page": page, "per_page": per_page})


def replay_dead_letter(job_id: str) -> Response:
    connection = state().connection
    if len(job_id) > 200 or not ExecutionLog(connection).is_dead_letter(job_id):
        raise ApiError(404, "dead_letter_not_found", f"no dead letter {job_id!r}")
    job = requeue(connection, fetch_job(connection, job_id))
    return jsonify(
        {"jobId": job_id, "status": job.get_status().value, "url": url_for("api_v1.get_job", job_id=job_id)}
    )


ROUTES: list[tuple[str, str, Any, str]] = [
    ("", "list_tasks", list_tasks, "GET"),
    ("", "create_task", create_task, "POST"),
    ("/health", "scheduler_health", scheduler_health, "GET"),
    ("/dead-letters", "list_dead_letters", list_dead_letters, "GET"),
    ("/dead-letters/<job_id>/replay", "replay_dead_letter", replay_dead_letter, "POST"),
    ("/<task_id:task_id>", "get_task", get_task, "GET"),
    ("/<task_id:task_id>", "update_task", update_task, "PUT"),
    ("/<task_id:task_id>", "delete_task", delete_task, "DELETE"),
    ("/<task_id>/actions/run", "run_task", run_task, "POST"),
    ("/<task_id>/actions/pause", "pause_task", pause_task, "POST"),
    ("/<task_id>/actions/resume", "resume_task", resume_task, "POST"),
    ("/<task_id>/actions/reset-retries", "reset_retries", reset_retries, "POST"),
    ("/<task_id>/executions", "list_executions", list_executions, "GET"),
]


class TaskIdConverter(BaseConverter):
    """A task id, never one of the fixed paths beside it: otherwise ``PUT``/``DELETE /health`` would
    reach the task routes and ``Allow`` would advertise them there."""

    regex = r"(?!(?:health|dead-letters)$)[^/]+"


def _add_converter(setup: BlueprintSetupState) -> None:
    setup.app.url_map.converters["task_id"] = TaskIdConverter


def create_blueprint() -> Blueprint:
    """/admin/scheduler (a fresh blueprint per app)."""
    bp = Blueprint("admin_scheduler", __name__, url_prefix="/admin/scheduler")
    bp.record_once(_add_converter)
    bp.before_request(enforce_api_access)
    bp.before_request(admins_only)  # after authentication: ADMIN_PATHS_ADMIN_ONLY
    for rule, endpoint, view, method in ROUTES:
        bp.add_url_rule(rule, endpoint, view, methods=[method])
    return bp
