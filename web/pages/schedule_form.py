"""The scheduled-task form's helpers: the next-runs preview (fetched as you type) and what the form
shows about each registered handler (its description and parameters).

The preview parses the schedule with the scheduler's own :func:`scheduler.cron.parse_schedule`, so
what it shows is what the scheduler will do; a bad expression answers the scheduler's own message.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, request

from jobs.registry import registry
from scheduler.cron import ScheduleError, parse_schedule
from web.errors import ApiError
from web.extension import state
from web.pages import render

PREVIEW_RUNS = 5


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
