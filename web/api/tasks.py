"""/api/v1/tasks: the task registry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from jobs.registry import registry
from web.api.openapi import READ_ERRORS, errors, json_response, list_of, operation
from web.api.schemas import TaskView
from web.extension import state
from web.read_model.queries import task_views


def list_tasks() -> Response:
    return jsonify({"items": task_views(registry, state().settings)})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/tasks", "list_tasks", list_tasks, methods=["GET"])


OPENAPI_MODELS = (TaskView,)


def openapi_paths() -> dict[str, Any]:
    return {
        "/api/v1/tasks": {
            "get": operation(
                "The task registry",
                {"200": json_response(list_of(TaskView), "Tasks"), **errors(*READ_ERRORS)},
            )
        }
    }
