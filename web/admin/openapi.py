"""OpenAPI paths of /admin/scheduler, gathered by web.api.openapi.document()."""

from __future__ import annotations

from typing import Any

from web.admin.schemas import (
    DeadLetter,
    ExecutionView,
    ScheduledTaskCreate,
    ScheduledTaskUpdate,
    ScheduledTaskView,
    SchedulerHealth,
)
from web.api.openapi import (
    READ_ERRORS,
    WRITE_ERRORS,
    errors,
    json_response,
    list_of,
    operation,
    path_param,
    query_param,
    ref,
)

OPENAPI_MODELS = (
    ScheduledTaskCreate,
    ScheduledTaskUpdate,
    ScheduledTaskView,
    ExecutionView,
    SchedulerHealth,
    DeadLetter,
)

PAGING = [
    query_param("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "1-based page"),
    query_param("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "items per page"),
]
TASK_STATUS = {
    "type": "string",
    "enum": ["active", "paused", "running", "completed", "failed", "retry-scheduled", ""],
    "description": "empty: any status",
}
EXECUTION_STATUS = {
    "type": "string",
    "enum": ["running", "completed", "failed", "retry-scheduled", "skipped", "abandoned", ""],
    "description": "empty: any status",
}

# GETs here also answer 403 to viewers when ADMIN_PATHS_ADMIN_ONLY is on (web/security/admin_access.py)
ADMIN_READ_ERRORS = (*READ_ERRORS, 403)


def _action(summary: str, status: int = 200) -> dict[str, Any]:
    return {
        "post": operation(
            summary,
            {
                str(status): json_response(ref(ScheduledTaskView), "The task"),
                **errors(401, 403, 404, 409, 503),
            },
            parameters=[path_param("task_id")],
        )
    }


def openapi_paths() -> dict[str, Any]:
    task = [path_param("task_id")]
    return {
        "/admin/scheduler": {
            "get": operation(
                "Scheduled tasks, paginated, filtered by status, handler or name",
                {
                    "200": json_response(list_of(ScheduledTaskView, paginated=True), "Tasks"),
                    **errors(400, *ADMIN_READ_ERRORS),
                },
                parameters=[
                    *PAGING,
                    query_param("status", TASK_STATUS),
                    query_param("handler", {"type": "string"}),
                    query_param("name", {"type": "string"}, "substring, case-insensitive"),
                ],
            ),
            "post": operation(
                "Create a scheduled task",
                {"201": json_response(ref(ScheduledTaskView), "Created"), **errors(*WRITE_ERRORS, 409)},
                ScheduledTaskCreate,
            ),
        },
        "/admin/scheduler/health": {
            "get": operation(
                "Missed schedules, the leading scheduler and what is missing",
                {"200": json_response(ref(SchedulerHealth), "Health"), **errors(*ADMIN_READ_ERRORS)},
            )
        },
        "/admin/scheduler/dead-letters": {
            "get": operation(
                "Runs that exhausted their retries",
                {
                    "200": json_response(list_of(DeadLetter, paginated=True), "Dead letters"),
                    **errors(400, *ADMIN_READ_ERRORS),
                },
                parameters=PAGING,
            )
        },
        "/admin/scheduler/dead-letters/{job_id}/replay": {
            "post": operation(
                "Put a dead run back on its queue",
                {"200": json_response({"type": "object"}, "Requeued"), **errors(401, 403, 404, 503)},
                parameters=[path_param("job_id")],
            )
        },
        "/admin/scheduler/{task_id}": {
            "get": operation(
                "A task",
                {"200": json_response(ref(ScheduledTaskView), "The task"), **errors(*ADMIN_READ_ERRORS, 404)},
                parameters=task,
            ),
            "put": operation(
                "Change a task (only the fields given)",
                {"200": json_response(ref(ScheduledTaskView), "Updated"), **errors(*WRITE_ERRORS, 404, 409)},
                ScheduledTaskUpdate,
                parameters=task,
            ),
            "delete": operation(
                "Delete a task and its history",
                {"200": json_response({"type": "object"}, "Deleted"), **errors(401, 403, 404, 503)},
                parameters=task,
            ),
        },
        "/admin/scheduler/{task_id}/actions/run": _action("Run now (a manual run)", 202),
        "/admin/scheduler/{task_id}/actions/pause": _action("Pause: no future runs, definition kept"),
        "/admin/scheduler/{task_id}/actions/resume": _action("Resume from now"),
        "/admin/scheduler/{task_id}/actions/reset-retries": _action("Reset the retry count"),
        "/admin/scheduler/{task_id}/executions": {
            "get": operation(
                "Execution history, newest first",
                {
                    "200": json_response(list_of(ExecutionView, paginated=True), "Executions"),
                    **errors(400, *ADMIN_READ_ERRORS, 404),
                },
                parameters=[*task, *PAGING, query_param("status", EXECUTION_STATUS)],
            )
        },
    }
