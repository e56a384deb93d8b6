"""Scheduled tasks: list (search, status filter), detail with paginated execution history, the
create/edit form, and the pause / resume / run now / reset retries buttons.

The pages read through :mod:`web.read_model.schedules` and change state through
:mod:`web.commands.schedules`, the functions /admin/scheduler uses: the form is validated by the API's
pydantic models and the same definition check, so the messages are the API's, and a button does
exactly what its endpoint does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from scheduler.tasks import STATUSES, Task
from web.admin.schemas import ScheduledTaskCreate, ScheduledTaskUpdate
from web.commands import schedules as commands
from web.errors import ApiError, validation_error
from web.extension import Taskyard, state
from web.pages import pagination, render
from web.read_model import schedules as read
from web.read_model.schedules import handler_views, next_runs

ACTIONS: dict[str, Callable[[Taskyard, Task], object]] = {
    "pause": lambda ext, task: commands.pause(ext.connection, ext.settings, task, ext.now()),
    "resume": lambda ext, task: commands.resume(ext.connection, ext.settings, task, ext.now()),
    "run": lambda ext, task: commands.run_now(ext.connection, ext.settings, task, ext.now()),
    "reset-retries": lambda ext, task: commands.reset_retries(ext.connection, ext.settings, task),
}
FORM_FIELDS = ("name", "handler", "schedule", "timezone", "description", "params", "maxRetries", "retryDelay")


def _task(task_id: str) -> Task:
    ext = state()
    return read.get_task(ext.connection, ext.settings, task_id)


def schedules() -> Response:
    page, per_page = pagination()
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(400, "validation_error", f"status must be one of {', '.join(STATUSES)}")
    search = (request.args.get("q") or "").strip()[:100] or None
    ext = state()
    result = read.task_page(
        ext.connection, ext.settings, page, per_page, ext.now(), status=status, name=search, executions=False
    )
    return render(
        "schedules.html", "_schedules_figures.html", result=result, statuses=STATUSES, status=status, q=search
    )


def schedule_detail(task_id: str) -> Response:
    task = _task(task_id)
    page, per_page = pagination()
    ext = state()
    return render(
        "schedule_detail.html",
        "_schedule_detail_figures.html",
        task=task.to_api(ext.now()),
        result=read.executions_page(ext.connection, task.id, page, per_page),
    )


def _form_body() -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The form as the API's JSON body; errors the form itself can see (params not JSON)."""
    body: dict[str, Any] = {}
    errors = []
    for name in FORM_FIELDS:
        raw = (request.form.get(name) or "").strip()
        if not raw:
            continue
        if name == "params":
            try:
                body[name] = json.loads(raw)
            except ValueError:
                errors.append({"field": "params", "message": 'not valid JSON (write an object: {"a": 1})'})
        elif name == "maxRetries" or name == "retryDelay":
            body[name] = int(raw) if raw.isdigit() else raw
        else:
            body[name] = raw
    body["allowOverlap"] = request.form.get("allowOverlap") == "on"
    if request.form.get("backoff") in ("fixed", "exponential"):
        body["backoff"] = request.form["backoff"]
    return body, errors


def _save(task: Task | None) -> BaseResponse | tuple[dict[str, Any], list[dict[str, str]]]:
    """Validate the form as the API does and store it; on error, the form values and the messages."""
    body, errors = _form_body()
    if errors:
        return body, errors
    ext = state()
    now = ext.now()
    try:
        if task is None:
            fields = ScheduledTaskCreate.model_validate(body)
            saved = commands.create(ext.connection, ext.settings, fields, now)
        else:
            update = ScheduledTaskUpdate.model_validate(body)
            saved = commands.update(ext.connection, ext.settings, task, update, now)
    except ValidationError as error:
        api_error = validation_error(error)
        return body, [{"field": d["field"], "message": d["message"]} for d in api_error.details or []]
    except ApiError as error:  # a definition the scheduler refuses (400) or a taken name (409)
        return body, [{"field": error.message.split(":", 1)[0], "message": error.message}]
    flash(f"saved scheduled task {saved.definition.name}")
    return redirect(url_for("pages.schedule_detail", task_id=saved.id))


def _form_page(values: dict[str, Any], errors: list[dict[str, str]], task_id: str | None) -> Response:
    schedule = str(values.get("schedule") or "")
    response = render(
        "schedule_form.html",
        values=values,
        errors=errors,
        task_id=task_id,
        handlers=handler_views(),
        preview=next_runs(schedule, str(values.get("timezone") or "UTC"), state().now())
        if schedule
        else None,
    )
    if errors:
        response.status_code = 400
    return response


def _admins_only() -> None:
    """Viewers never reach the form (its POST is refused for them anyway)."""
    if not g.principal.is_admin:
        raise ApiError(
            403, "forbidden", "you are logged in as a viewer; only admins create or edit scheduled tasks"
        )


def new_schedule() -> Any:
    _admins_only()
    if request.method == "POST":
        saved = _save(None)
        if isinstance(saved, tuple):
            return _form_page(*saved, None)
        return saved
    return _form_page({"timezone": "UTC", "backoff": "fixed"}, [], None)


def edit_schedule(task_id: str) -> Any:
    _admins_only()
    task = _task(task_id)
    if request.method == "POST":
        saved = _save(task)
        if isinstance(saved, tuple):
            return _form_page(*saved, task.id)
        return saved
    values = task.to_api(state().now())
    values["params"] = json.dumps(values["params"]) if values["params"] else ""
    return _form_page(values, [], task.id)


def schedule_action(task_id: str, action: str) -> BaseResponse:
    ext = state()
    if action == "delete":  # the API's own delete; then back to the list (the task's page is gone)
        task = _task(task_id)
        commands.delete(ext.connection, ext.settings, task)
        flash(f"deleted scheduled task {task.definition.name}")
        return redirect(url_for("pages.schedules"))
    if action not in ACTIONS:
        raise ApiError(404, "not_found", f"no action {action!r}; actions are {', '.join(ACTIONS)}")
    ACTIONS[action](ext, _task(task_id))
    flash(f"{action.replace('-', ' ')}: done")
    back = request.form.get("back") or ""
    if not (back.startswith("/dashboard/") and "//" not in back and "\\" not in back):
        back = url_for("pages.schedule_detail", task_id=task_id)
    return redirect(back)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/schedules", "schedules", schedules, methods=["GET"])
    bp.add_url_rule("/schedules/new", "new_schedule", new_schedule, methods=["GET", "POST"])
    bp.add_url_rule("/schedules/<task_id>", "schedule_detail", schedule_detail, methods=["GET"])
    bp.add_url_rule("/schedules/<task_id>/edit", "edit_schedule", edit_schedule, methods=["GET", "POST"])
    bp.add_url_rule("/schedules/<task_id>/<action>", "schedule_action", schedule_action, methods=["POST"])
