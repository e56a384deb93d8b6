"""POST /api/v1/jobs/batch: up to 1,000 jobs in one request, enqueued in one Redis pipeline.

Each item is a ``POST /api/v1/jobs`` body, validated on its own: a bad item is reported by its index
and the valid ones are enqueued all the same (:func:`jobs.enqueue_batch.enqueue_batch`). An
``Idempotency-Key`` makes a retried batch replay the first answer instead of enqueueing twice.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request, url_for
from pydantic import ValidationError

from jobs.enqueue import JobIdTaken, JobRequest, UnknownQueue
from jobs.enqueue_batch import enqueue_batch
from jobs.registry import UnknownTask
from web.api.body import parse_body
from web.api.job_schemas import BatchCreate, BatchResult
from web.api.jobs import IDEMPOTENCY_HEADER, job_request
from web.api.openapi import WRITE_ERRORS
from web.api.routes import AnyOf, Routes
from web.api.schemas import Error, JobCreate
from web.errors import validation_details
from web.extension import state
from web.idempotency import with_idempotency
from web.read_model.queries import job_view
from web.security.auth import current_principal

routes = Routes("/api/v1")


def _error(error: Exception) -> dict[str, Any]:
    """An enqueue error as the single-job endpoint words it."""
    if isinstance(error, UnknownTask):
        return {"code": "unknown_task", "message": f"no task named {error}; GET /api/v1/tasks lists them"}
    if isinstance(error, UnknownQueue):
        queues = ", ".join(state().settings.worker.queues)
        return {"code": "unknown_queue", "message": f"no queue named {error}; queues are {queues}"}
    if isinstance(error, JobIdTaken):
        return {"code": "job_id_taken", "message": str(error)}
    return {"code": "error", "message": str(error)}


@routes.post(
    "/jobs/batch",
    "Enqueue up to 1,000 jobs in one request (per-item errors by index)",
    {
        200: (BatchResult, "Each item's job or error, by index"),
        400: (
            AnyOf((Error, BatchResult)),
            "Invalid input, or no item could be enqueued (then the body is a BatchResult saying why, item by item)",
        ),
    },
    errors=(*WRITE_ERRORS, 409, 422),
    body=BatchCreate,
    parameters=(IDEMPOTENCY_HEADER,),
    name="create_job_batch",
    answers_options=True,
)
def create_batch() -> Response:
    if request.method == "OPTIONS":
        return batch_options()
    ext = state()
    return with_idempotency(
        ext.connection, current_principal().token_id, ext.settings.web.idempotency_ttl, _create_batch
    )


def _create_batch() -> Response:
    ext = state()
    body = parse_body(BatchCreate)
    results: list[dict[str, Any] | None] = [None] * len(body.jobs)
    valid: list[tuple[int, JobRequest]] = []
    for index, item in enumerate(body.jobs):
        try:
            job = JobCreate.model_validate_json(json.dumps(item))
        except ValidationError as error:
            details = validation_details(error)
            message = f"{details[0]['field']}: {details[0]['message']}" if details else "invalid"
            results[index] = {
                "index": index,
                "ok": False,
                "error": {"code": "validation_error", "message": message, "details": details},
            }
            continue
        if job.depends_on:  # the batch enqueues in one pipeline; dependencies need RQ's own WATCH
            message = "depends_on is not supported in a batch; POST /api/v1/jobs takes it"
            results[index] = {
                "index": index,
                "ok": False,
                "error": {"code": "validation_error", "message": message},
            }
            continue
        valid.append((index, job_request(job)))
    outcomes = enqueue_batch(ext.connection, ext.settings, [r for _, r in valid])
    for (index, _), outcome in zip(valid, outcomes, strict=True):
        if outcome.job is not None:
            view = job_view(outcome.job, url_for("api_v1.get_job", job_id=outcome.job.id))
            results[index] = {"index": index, "ok": True, "job": view}
        else:
            results[index] = {"index": index, "ok": False, "error": _error(outcome.error or Exception())}
    items = [r for r in results if r is not None]
    done = sum(1 for r in items if r["ok"])
    response = jsonify({"enqueued": done, "failed": len(items) - done, "items": items})
    response.status_code = 200 if done else 400  # nothing enqueued: the request as a whole failed
    return response


def batch_options() -> Response:
    """OPTIONS names only POST: Flask's automatic answer would add GET and DELETE of /jobs/<job_id>,
    whose pattern "batch" also matches."""
    response = Response(status=200)
    response.headers["Allow"] = "POST, OPTIONS"
    return response
