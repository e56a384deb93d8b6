"""/api/v1/dead-letters: what failed for good, grouped, and bulk replay / discard.

``GET`` groups failed jobs by task and scheduled task (:mod:`web.read_model.dead_letters`) and counts failed
webhook deliveries. ``POST /api/v1/dead-letters/{replay,discard}`` acts on one kind at a time: failed
jobs (``kind=job``, by ``ids`` or by ``task``/``scheduled_task``; replay is the job requeue of
:mod:`web.commands.jobs`, discard deletes the job) or failed webhook deliveries (``kind=webhook``, by ``ids``
or all of them; replay starts a fresh retry cycle, discard deletes the delivery and its log). At most
``limit`` (1,000) a call; ``more`` says to call again. ``dry_run`` counts without changing anything.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from web.api.body import parse_body
from web.api.job_schemas import (
    MAX_ACTION_IDS,
    SCHEDULED_TASK,
    TASK_NAME,
    JobActionResult,
    JobListQuery,
    parse_query,
)
from web.api.openapi import READ_ERRORS, WRITE_ERRORS, query_param
from web.api.routes import Routes
from web.api.schemas import Strict
from web.commands.dead_letters import VERBS, act_on_deliveries, act_on_failed_jobs, check_action
from web.errors import ApiError
from web.extension import state
from web.read_model.dead_letters import failed_delivery_ids, job_groups

routes = Routes("/api/v1")


class DeadLetterGroup(BaseModel):
    kind: str
    task: str
    scheduled_task: str | None
    scheduled_task_name: str | None
    count: int
    latest_at: Any = None
    latest_error: str | None
    latest_id: str | None


class DeadLetters(BaseModel):
    """Failed jobs grouped (over the newest failures of each queue), and failed webhook deliveries."""

    groups: list[DeadLetterGroup]
    failed_jobs: int
    failed_deliveries: int


class DeadLetterAction(Strict):
    """POST /api/v1/dead-letters/{replay,discard}."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["job", "webhook"] = "job"
    ids: list[str] | None = Field(default=None, max_length=MAX_ACTION_IDS)
    task: str | None = Field(default=None, pattern=TASK_NAME)
    scheduled_task: str | None = Field(default=None, pattern=SCHEDULED_TASK)
    dry_run: bool = False
    limit: int = Field(default=MAX_ACTION_IDS, ge=1, le=MAX_ACTION_IDS)


def dead_letters_view(task: str | None, scheduled_task: str | None) -> dict[str, Any]:
    ext = state()
    grouped = job_groups(ext.connection, ext.settings.worker.queues, task, scheduled_task)
    _, deliveries = failed_delivery_ids(ext.connection, 1)
    groups = [{k: v for k, v in g.items() if k != "ids"} for g in grouped["groups"]]
    return {"groups": groups, "failed_jobs": grouped["total"], "failed_deliveries": deliveries}


@routes.get(
    "/dead-letters",
    "Dead letters: failed jobs grouped by task and scheduled task; failed webhook deliveries",
    {200: (DeadLetters, "The groups")},
    errors=(*READ_ERRORS, 400),
    parameters=(
        query_param("task", {"type": "string", "pattern": f"^$|{TASK_NAME}"}, "Only this task"),
        query_param(
            "scheduled_task",
            {"type": "string", "pattern": f"^$|{SCHEDULED_TASK}"},
            "Only runs of this scheduled task",
        ),
    ),
)
def list_dead_letters() -> Response:
    args = {k: v for k, v in request.args.items() if v}
    unknown = sorted(set(args) - {"task", "scheduled_task"})
    if unknown:
        raise ApiError(
            400,
            "validation_error",
            f"{unknown[0]}: unknown filter",
            [{"field": unknown[0], "message": "unknown filter"}],
        )
    query = parse_query(JobListQuery, {k: args[k] for k in ("task", "scheduled_task") if k in args})
    return jsonify(dead_letters_view(query.task, query.scheduled_task))


def act_on_dead_letters(action: str, body: DeadLetterAction) -> dict[str, Any]:
    """Replay or discard the dead letters ``body`` names (:mod:`web.commands.dead_letters`)."""
    check_action(action)
    ext = state()
    if body.kind == "webhook":
        if body.task or body.scheduled_task:
            raise ApiError(
                400, "validation_error", "webhook dead letters are chosen by ids (or all), not by task"
            )
        return act_on_deliveries(ext.connection, ext.settings, action, body.ids, body.dry_run, body.limit)
    fields = (
        {"ids": body.ids}
        if body.ids is not None
        else {"task": body.task, "scheduled_task": body.scheduled_task}
    )
    return act_on_failed_jobs(ext.connection, ext.settings, action, fields, body.dry_run, body.limit)


@routes.post(
    "/dead-letters/<action>",
    "Replay or discard dead letters (jobs by task, scheduled task or ids; webhook deliveries)",
    {200: (JobActionResult, "What was (or would be) done")},
    errors=(*WRITE_ERRORS, 404),
    body=DeadLetterAction,
    path_schemas={"action": {"type": "string", "enum": list(VERBS)}},
)
def dead_letter_action(action: str) -> Response:
    return jsonify(act_on_dead_letters(action, parse_body(DeadLetterAction)))
