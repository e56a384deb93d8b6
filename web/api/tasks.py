"""/api/v1/tasks: the task registry."""

from __future__ import annotations

from flask import Response, jsonify

from jobs.registry import registry
from web.api.openapi import READ_ERRORS
from web.api.routes import ListOf, Routes
from web.api.schemas import TaskView
from web.extension import state
from web.read_model.queries import task_views

routes = Routes("/api/v1")


@routes.get("/tasks", "The task registry", {200: (ListOf(TaskView), "Tasks")}, errors=READ_ERRORS)
def list_tasks() -> Response:
    return jsonify({"items": task_views(registry, state().settings)})
