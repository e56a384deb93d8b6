"""/admin/scheduler: scheduled tasks as data, managed at runtime (camelCase field names).

Any valid token reads; changes need an admin token (the API's rule, web/security/auth.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import BaseConverter

from scheduler.executions import EXECUTION_STATUSES
from scheduler.tasks import STATUSES, Task
from web.admin.openapi import ADMIN_READ_ERRORS, EXECUTION_STATUS, PAGING, TASK_STATUS
from web.admin.schemas import (
    DeadLetter,
    ExecutionView,
    ScheduledTaskCreate,
    ScheduledTaskUpdate,
    ScheduledTaskView,
    SchedulerHealth,
)
from web.api.body import parse_body
from web.api.openapi import WRITE_ERRORS, query_param
from web.api.routes import ListOf, Routes
from web.commands import schedules as commands
from web.errors import ApiError
from web.extension import state
from web.read_model import schedules as read
from web.security.admin_access import admins_only
from web.security.auth import enforce_api_access

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # beyond any real listing; larger offsets overflow Redis's range arguments
routes = Routes("/admin/scheduler")
TASK_CHANGE_ERRORS = (401, 403, 404, 409, 503)


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
    ext = state()
    return read.get_task(ext.connection, ext.settings, task_id)


def _view(task_id: str) -> dict[str, Any]:
    """The task as stored now (a 404 if it is gone), with its newest executions."""
    ext = state()
    return read.task_view(ext.connection, _task(task_id), ext.now())


@routes.get(
    "",
    "Scheduled tasks, paginated, filtered by status, handler or name",
    {200: (ListOf(ScheduledTaskView, paginated=True), "Tasks")},
    errors=(400, *ADMIN_READ_ERRORS),
    parameters=(
        *PAGING,
        query_param("status", TASK_STATUS),
        query_param("handler", {"type": "string"}),
        query_param("name", {"type": "string"}, "substring, case-insensitive"),
    ),
)
def list_tasks() -> Response:
    page, per_page, status = _page_args(STATUSES)
    ext = state()
    return jsonify(
        read.task_page(ext.connection, ext.settings, page, per_page, ext.now(), status=status,
                       handler=request.args.get("handler") or None, name=request.args.get("name") or None)
    )  # fmt: skip


@routes.post(
    "",
    "Create a scheduled task",
    {201: (ScheduledTaskView, "Created")},
    errors=(*WRITE_ERRORS, 409),
    body=ScheduledTaskCreate,
)
def create_task() -> Response:
    body = parse_body(ScheduledTaskCreate)
    ext = state()
    now = ext.now()
    task = commands.create(ext.connection, ext.settings, body, now, status=body.status or "active")
    response = jsonify(read.task_view(ext.connection, task, now))
    response.status_code = 201
    response.headers["Location"] = url_for("admin_scheduler.get_task", task_id=task.id)
    return response


@routes.get(
    "/<task_id:task_id>", "A task", {200: (ScheduledTaskView, "The task")}, errors=(*ADMIN_READ_ERRORS, 404)
)
def get_task(task_id: str) -> Response:
    return jsonify(_view(task_id))


@routes.put(
    "/<task_id:task_id>",
    "Change a task (only the fields given)",
    {200: (ScheduledTaskView, "Updated")},
    errors=(*WRITE_ERRORS, 404, 409),
    body=ScheduledTaskUpdate,
)
def update_task(task_id: str) -> Response:
    task = _task(task_id)
    body = parse_body(ScheduledTaskUpdate)
    ext = state()
    commands.update(ext.connection, ext.settings, task, body, ext.now())
    return jsonify(_view(task_id))


@routes.delete(
    "/<task_id:task_id>",
    "Delete a task and its history",
    {200: ({"type": "object"}, "Deleted")},
    errors=(401, 403, 404, 503),
)
def delete_task(task_id: str) -> Response:
    task = _task(task_id)
    ext = state()
    commands.delete(ext.connection, ext.settings, task)
    return jsonify({"id": task.id, "deleted": True})


@routes.post(
    "/<task_id>/actions/run",
    "Run now (a manual run)",
    {202: (ScheduledTaskView, "The task")},
    errors=TASK_CHANGE_ERRORS,
)
def run_task(task_id: str) -> Response:
    task = _task(task_id)
    ext = state()
    job = commands.run_now(ext.connection, ext.settings, task, ext.now())
    response = jsonify(
        {**_view(task.id), "run": {"jobId": job.id, "url": url_for("api_v1.get_job", job_id=job.id)}}
    )
    response.status_code = 202
    return response


@routes.post(
    "/<task_id>/actions/pause",
    "Pause: no future runs, definition kept",
    {200: (ScheduledTaskView, "The task")},
    errors=TASK_CHANGE_ERRORS,
)
def pause_task(task_id: str) -> Response:
    ext = state()
    commands.pause(ext.connection, ext.settings, _task(task_id), ext.now())
    return jsonify(_view(task_id))


@routes.post(
    "/<task_id>/actions/resume",
    "Resume from now",
    {200: (ScheduledTaskView, "The task")},
    errors=TASK_CHANGE_ERRORS,
)
def resume_task(task_id: str) -> Response:
    ext = state()
    commands.resume(ext.connection, ext.settings, _task(task_id), ext.now())
    return jsonify(_view(task_id))


@routes.post(
    "/<task_id>/actions/reset-retries",
    "Reset the retry count",
    {200: (ScheduledTaskView, "The task")},
    errors=TASK_CHANGE_ERRORS,
)
def reset_retries(task_id: str) -> Response:
    """Set ``retryCount`` to 0 (:func:`web.commands.schedules.reset_retries` says what else changes)."""
    ext = state()
    commands.reset_retries(ext.connection, ext.settings, _task(task_id))
    return jsonify(_view(task_id))


@routes.get(
    "/<task_id>/executions",
    "Execution history, newest first",
    {200: (ListOf(ExecutionView, paginated=True), "Executions")},
    errors=(400, *ADMIN_READ_ERRORS, 404),
    parameters=(*PAGING, query_param("status", EXECUTION_STATUS)),
)
def list_executions(task_id: str) -> Response:
    _task(task_id)
    page, per_page, status = _page_args(EXECUTION_STATUSES)
    return jsonify(read.executions_page(state().connection, task_id, page, per_page, status))


@routes.get(
    "/health",
    "Missed schedules, the leading scheduler and what is missing",
    {200: (SchedulerHealth, "Health")},
    errors=ADMIN_READ_ERRORS,
)
def scheduler_health() -> Response:
    ext = state()
    return jsonify(read.scheduler_health(ext.connection, ext.settings, ext.now()))


@routes.get(
    "/dead-letters",
    "Runs that exhausted their retries",
    {200: (ListOf(DeadLetter, paginated=True), "Dead letters")},
    errors=(400, *ADMIN_READ_ERRORS),
    parameters=PAGING,
)
def list_dead_letters() -> Response:
    page, per_page, _ = _page_args(())
    ext = state()
    return jsonify(read.dead_letters_page(ext.connection, ext.settings, page, per_page))


@routes.post(
    "/dead-letters/<job_id>/replay",
    "Put a dead run back on its queue",
    {200: ({"type": "object"}, "Requeued")},
    errors=(401, 403, 404, 503),
)
def replay_dead_letter(job_id: str) -> Response:
    job = commands.replay_dead_letter(state().connection, job_id)
    return jsonify(
        {"jobId": job_id, "status": job.get_status().value, "url": url_for("api_v1.get_job", job_id=job_id)}
    )


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
    routes.register(bp)
    return bp
