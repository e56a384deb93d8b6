"""A scheduled task's definition from an API or form body: merged over the stored one and checked.

pydantic checks each field; :func:`build_definition` checks what needs the registry or the store: the
handler exists (an unknown one's 400 says how to register it), its schedule and time zone parse, the
params fit the handler's signature, and ``onSuccess`` names another existing task. The pages' task form
uses it too, so its messages are the API's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobs.params import param_problems
from jobs.registry import registry
from scheduler.cron import ScheduleError
from scheduler.store import TaskStore
from scheduler.tasks import Definition
from web.admin.schemas import ScheduledTaskFields
from web.errors import ApiError
from web.extension import state


def _store() -> TaskStore:
    ext = state()
    return TaskStore(ext.connection, ext.settings.missed_grace)


def build_definition(fields: ScheduledTaskFields, base: Definition | None, now: datetime) -> Definition:
    """Merge ``fields`` over ``base`` and check what pydantic cannot: handler, schedule, time zone.
    The pages' task form uses it too, so its messages are the API's."""
    given = fields.model_dump(exclude_unset=True)
    current: dict[str, Any] = {
        "name": base.name if base else None,
        "handler": base.handler if base else None,
        "schedule": base.schedule if base else None,
        "description": base.description if base else "",
        "params": dict(base.params) if base else {},
        "timezone": base.timezone if base else "UTC",
        "max_retries": base.max_retries if base else 0,
        "retry_delay": base.retry_delay if base else round(state().settings.job_retry_delay * 1000),
        "backoff": base.backoff if base else "fixed",
        "allow_overlap": base.allow_overlap if base else False,
        "source": base.source if base else "api",
        "on_success": base.on_success if base else "",
        "max_interval": base.max_interval if base else 0,
    }
    renames = {"maxRetries": "max_retries", "retryDelay": "retry_delay", "allowOverlap": "allow_overlap",
               "onSuccess": "on_success", "maxInterval": "max_interval"}  # fmt: skip
    for key, value in given.items():
        if key not in ("status", "recurring") and value is not None:
            current[renames.get(key, key)] = value
    if current["handler"] not in registry:
        raise ApiError(
            400,
            "unknown_handler",
            f"handler: no task named {current['handler']!r}; GET /api/v1/tasks lists them. An application "
            "registers its own handler with @task('reports.generate') on a function in a module named in "
            "TASK_MODULES",
        )
    try:
        schedule = Definition(**current, recurring=True).parsed(now)
    except ScheduleError as error:
        field = "timezone" if "time zone" in str(error) else "schedule"
        raise ApiError(400, "invalid_schedule", f"{field}: {error}") from None
    recurring = given.get("recurring")
    if recurring is None:
        recurring = base.recurring if base and "schedule" not in given else schedule.recurring
    if recurring and not schedule.recurring:
        raise ApiError(
            400, "validation_error", "recurring: a one-time schedule (now, a datetime or @after) cannot recur"
        )
    problems = param_problems(registry.get(current["handler"]).func, current["params"])
    if problems:
        raise ApiError(400, "invalid_params", f"params: {'; '.join(problems)}")
    if current["on_success"]:
        current["on_success"] = _follower_id(current["on_success"], base)
    return Definition(**current, recurring=recurring)


def _follower_id(reference: str, base: Definition | None) -> str:
    """The id of the task ``onSuccess`` names (by id or name); never the task itself."""
    store = _store()
    follower = store.get(reference)
    if follower is None:
        found = store.id_for_name(reference)
        follower = store.get(found) if found else None
    if follower is None:
        raise ApiError(400, "validation_error", f"onSuccess: no scheduled task {reference!r}")
    if base is not None and follower.definition.name == base.name:
        raise ApiError(400, "validation_error", "onSuccess: a task cannot follow itself")
    return follower.id
