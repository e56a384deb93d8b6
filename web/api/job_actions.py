"""POST /api/v1/jobs/actions/{requeue,delete}: act on many jobs at once, with a dry-run count.

The jobs are named by ``ids`` or chosen by the listing's filters (``status`` defaults to ``failed``:
these actions exist to clear failures). Filtered jobs are found through the same read model as
``GET /api/v1/jobs`` and at most ``limit`` (1,000) are acted on per call; ``more`` says to call again.
The work is :func:`web.commands.jobs.act_on_jobs`, so a bulk requeue is exactly many single requeues.
"""

from __future__ import annotations

from flask import Response, jsonify

from web.api.body import parse_body
from web.api.job_schemas import JobAction, JobActionResult
from web.api.openapi import WRITE_ERRORS
from web.api.routes import Routes
from web.commands.jobs import act_on_jobs
from web.errors import ApiError
from web.extension import state

ACTIONS = ("requeue", "delete")
routes = Routes("/api/v1")


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
    ext = state()
    return jsonify(act_on_jobs(ext.connection, ext.settings, action, parse_body(JobAction)))
