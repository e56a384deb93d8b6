"""A scheduled task's definition from the fields a client gave: merged over the stored one and checked.

The web layer checks each field's shape (pydantic, ``web/admin/schemas.py``) and hands over what was
given, under the scheduled-task API's camelCase names. :func:`build_definition` checks what needs the
registry or the store: the handler exists (an unknown one's message says how to register it), its
schedule and time zone parse, the params fit the handler's signature, and ``onSuccess`` names another
existing task. It knows nothing of HTTP: a refusal is a :class:`DefinitionError` with a stable code and
a message naming the field, which the API and the pages' form show as they are (a 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jobs.params import param_problems
from jobs.registry import registry
from scheduler.cron import ScheduleError
from scheduler.store import TaskStore
from scheduler.tasks import Definition

RENAMES = {"maxRetries": "max_retries", "retryDelay": "retry_delay", "allowOverlap": "allow_overlap",
           "onSuccess": "on_success", "maxInterval": "max_interval"}  # fmt: skip
NOT_DEFINITION = ("status", "recurring")  # given fields that are state or derived, not stored as given


class DefinitionError(ValueError):
    """A definition that cannot be stored. ``code`` is the API's error code; ``message`` starts with
    the field it is about (``"schedule: ..."``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def field(self) -> str:
        return self.message.split(":", 1)[0]


def build_definition(
    given: Mapping[str, Any],
    base: Definition | None,
    now: datetime,
    store: TaskStore,
    default_retry_delay_ms: int,
) -> Definition:
    """Merge ``given`` (the fields a client set, camelCase) over ``base`` (None on create) and check it.

    ``store`` resolves ``onSuccess``; ``default_retry_delay_ms`` is a new task's ``retryDelay``
    (``JOB_RETRY_DELAY``). Raises :class:`DefinitionError`.
    """
    current: dict[str, Any] = {
        "name": base.name if base else None,
        "handler": base.handler if base else None,
        "schedule": base.schedule if base else None,
        "description": base.description if base else "",
        "params": dict(base.params) if base else {},
        "timezone": base.timezone if base else "UTC",
        "max_retries": base.max_retries if base else 0,
        "retry_delay": base.retry_delay if base else default_retry_delay_ms,
        "backoff": base.backoff if base else "fixed",
        "allow_overlap": base.allow_overlap if base else False,
        "source": base.source if base else "api",
        "on_success": base.on_success if base else "",
        "max_interval": base.max_interval if base else 0,
    }
    for key, value in given.items():
        if key not in NOT_DEFINITION and value is not None:
            current[RENAMES.get(key, key)] = value
    if current["handler"] not in registry:
        raise DefinitionError(
            "unknown_handler",
            f"handler: no task named {current['handler']!r}; GET /api/v1/tasks lists them. An application "
            "registers its own handler with @task('reports.generate') on a function in a module named in "
            "TASK_MODULES",
        )
    try:
        schedule = Definition(**current, recurring=True).parsed(now)
    except ScheduleError as error:
        field = "timezone" if "time zone" in str(error) else "schedule"
        raise DefinitionError("invalid_schedule", f"{field}: {error}") from None
    recurring = given.get("recurring")
    if recurring is None:
        recurring = base.recurring if base and "schedule" not in given else schedule.recurring
    if recurring and not schedule.recurring:
        raise DefinitionError(
            "validation_error", "recurring: a one-time schedule (now, a datetime or @after) cannot recur"
        )
    problems = param_problems(registry.get(current["handler"]).func, current["params"])
    if problems:
        raise DefinitionError("invalid_params", f"params: {'; '.join(problems)}")
    if current["on_success"]:
        current["on_success"] = _follower_id(store, current["on_success"], base)
    return Definition(**current, recurring=recurring)


def _follower_id(store: TaskStore, reference: str, base: Definition | None) -> str:
    """The id of the task ``onSuccess`` names (by id or name); never the task itself."""
    follower = store.get(reference)
    if follower is None:
        found = store.id_for_name(reference)
        follower = store.get(found) if found else None
    if follower is None:
        raise DefinitionError("validation_error", f"onSuccess: no scheduled task {reference!r}")
    if base is not None and follower.definition.name == base.name:
        raise DefinitionError("validation_error", "onSuccess: a task cannot follow itself")
    return follower.id
