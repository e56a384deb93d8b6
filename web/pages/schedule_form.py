"""The scheduled-task form's next-runs preview (fetched as you type) and the status a task's badge
shows.

The preview is :func:`web.read_model.schedules.next_runs`: the scheduler's own parser, so what it shows
is what the scheduler will do; a bad expression answers the scheduler's own message.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request

from web.errors import ApiError
from web.extension import state
from web.pages import render
from web.read_model.schedules import next_runs


def preview() -> Response:
    """GET /dashboard/schedules/preview?schedule=&timezone=: the next runs as an HTML fragment."""
    if not g.principal.is_admin:
        raise ApiError(403, "forbidden", "you are logged in as a viewer; only admins edit scheduled tasks")
    result = next_runs(
        (request.args.get("schedule") or "")[:200],
        (request.args.get("timezone") or "UTC")[:64],
        state().now(),
    )
    return render("_schedule_preview.html", preview=result)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/schedules/preview", "schedule_preview", preview, methods=["GET"])


def status_label(task: dict[str, Any]) -> dict[str, Any]:
    """One status a person can trust, from the task as the scheduler API shows it.

    A recurring task keeps firing after a failed run, so it reads "active, last run failed", never
    plain "failed"; a retry count is shown only while a retry is pending and never above the maximum;
    a finished one-time task says when it ran (its last run), not a recomputed "next run".
    Returns ``{"label", "tone", "can_pause", "retrying"}``.
    """
    status = str(task.get("status"))
    recurring = bool(task.get("recurring"))
    last = task.get("lastExecution") or {}
    tone = "secondary"
    label = status
    if status == "paused":
        tone = "warning"
    elif status == "completed":
        label, tone = "completed", "success"
    elif status == "failed":
        label, tone = ("active, last run failed", "danger") if recurring else ("failed", "danger")
    elif status == "retry-scheduled":
        used = min(int(task.get("retryCount") or 0), int(task.get("maxRetries") or 0))
        label, tone = f"retrying ({used} of {task.get('maxRetries')})", "warning"
    elif status == "running":
        tone = "primary"
    elif status == "active" and last.get("status") == "failed":
        label, tone = "active, last run failed", "danger"
    elif status == "active":
        tone = "success"
    return {
        "label": label,
        "tone": tone,
        "can_pause": status not in ("completed", "paused") and (recurring or status != "failed"),
        "can_resume": status == "paused",
        "retrying": status == "retry-scheduled",
    }
