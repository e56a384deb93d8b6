"""/api/v1/tasks: the task registry."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from jobs.registry import registry
from web.extension import state
from web.queries import task_views


def list_tasks() -> Response:
    return jsonify({"items": task_views(registry, state().settings)})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/tasks", "list_tasks", list_tasks, methods=["GET"])
