"""POST /api/v1/jobs/actions/{requeue,delete}: act on many jobs at once, with a dry-run count.

The jobs are named by ``ids`` or chosen by the listing's filters (``status`` defaults to ``failed``:
these actions exist to clear failures). Filtered jobs are found through the same read model as
``GET /api/v1/jobs`` and at most ``limit`` (1,000) are acted on per call; ``more`` says to call again.
Each job goes through :mod:`web.commands.jobs`, so a bulk requeue is exactly many single requeues.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from web.api.body import parse_body
from web.api.job_listing import check_queue
from web.api.job_schemas import JobAction, JobActionResult
from web.api.openapi import WRITE_ERRORS
from web.api.routes import Routes
from web.commands.jobs import apply_to_many
from web.errors import ApiError
from web.extension import state
from web.read_model.job_search import FILTER_FIELDS, MAX_LIMIT, JobFilter
from web.read_model.queries import list_jobs

ACTIONS = ("requeue", "delete")
MAX_PAGES = 50  # listing pages read to gather one call's jobs (each examines a bounded window)
routes = Routes("/api/v1")


def matching_ids(flt: JobFilter, limit: int) -> tuple[list[str], bool]:
    """Ids of up to ``limit`` jobs matching ``flt``, newest first, and whether more may match."""
    connection = state().connection
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = list_jobs(connection, flt, min(MAX_LIMIT, limit - len(ids)), cursor)
        ids.extend(job.id for job, _ in page.jobs)
        cursor = page.next_cursor
        if cursor is None or len(ids) >= limit:
            break
    return ids[:limit], cursor is not None


def act(action: str, body: JobAction) -> dict[str, Any]:
    """Run ``action`` on the jobs ``body`` names (shared with the pages' bulk buttons)."""
    ext = state()
    if body.ids is not None:
        given = [name for name in FILTER_FIELDS if getattr(body, name) is not None]
        if given:
            raise ApiError(400, "validation_error", f"give ids or filters, not both (got {', '.join(given)})")
        ids, more = list(dict.fromkeys(body.ids))[: body.limit], False
    else:
        check_queue(body.queue)
        ids, more = matching_ids(body.to_filter(ext.settings.queues, ("failed",)), body.limit)
    outcome = apply_to_many(ext.connection, ids, action, body.dry_run)
    return {
        "action": action,
        "dry_run": body.dry_run,
        "matched": len(ids),
        "done": 0 if body.dry_run else len(outcome["ids"]),
        "ids": outcome["ids"],
        "errors": outcome["errors"],
        "more": more,
    }


@routes.post(
    "/jobs/actions/<action>",
    "Requeue or delete many jobs (failed ones by default) by filter or ids; dry_run counts",
    {200: (JobActionResult, "What was (or would be) done")},
    errors=(*WRITE_ERRORS, 404),
    body=JobAction,
    path_schemas={"action": {"type": "string", "enum": list(ACTIONS)}},
)
def job_action(action: str) -> Response:
    if action not in ACTIONS:
        raise ApiError(404, "unknown_action", f"no action {action!r}; actions are {', '.join(ACTIONS)}")
    return jsonify(act(action, parse_body(JobAction)))
