"""/api/v1/jobs: enqueue, inspect, cancel and requeue jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response, jsonify, url_for

from jobs.dependencies import DependencyProblem
from jobs.enqueue import JobIdTaken, JobRequest, UnknownQueue, enqueue
from jobs.registry import UnknownTask
from web.api.body import parse_body
from web.api.openapi import READ_ERRORS, WRITE_ERRORS
from web.api.routes import Routes
from web.api.schemas import JobCreate, JobView
from web.commands.jobs import cancel, fetch_job, requeue
from web.errors import ApiError
from web.extension import state
from web.idempotency import with_idempotency
from web.read_model.queries import job_view
from web.security.auth import current_principal

if TYPE_CHECKING:
    from rq.job import Job  # annotations only: jobs are fetched through web.commands.jobs

routes = Routes("/api/v1")
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
}


def _fetch(job_id: str) -> Job:
    return fetch_job(state().connection, job_id)


def _view(job: Job) -> dict[str, Any]:
    return job_view(job, url_for("api_v1.get_job", job_id=job.id))


@routes.post(
    "/jobs",
    "Enqueue a job of a registered task",
    {201: (JobView, "Created"), 200: (JobView, "A pending job with this job_id already exists")},
    errors=(*WRITE_ERRORS, 409, 422),
    body=JobCreate,
    parameters=(IDEMPOTENCY_HEADER,),
)
def create_job() -> Response:
    ext = state()
    return with_idempotency(
        ext.connection, current_principal().token_id, ext.settings.web.idempotency_ttl, _create_job
    )


def job_request(body: JobCreate) -> JobRequest:
    """The enqueue request a validated ``POST /api/v1/jobs`` body (or one batch item) describes."""
    return JobRequest(
        task=body.task,
        args=body.args,
        kwargs=body.kwargs,
        queue=body.queue,
        delay_seconds=body.delay_seconds,
        run_at=body.run_at,
        job_id=body.job_id,
        at_front=body.at_front,
        timeout=body.timeout,
        max_retries=body.max_retries,
        depends_on=tuple(body.depends_on or ()),
        allow_failure=body.allow_failure,
    )


def _create_job() -> Response:
    ext = state()
    body = parse_body(JobCreate)
    request = job_request(body)
    try:
        result = enqueue(ext.connection, ext.settings, request)
    except DependencyProblem as error:
        raise ApiError(400, "invalid_dependency", str(error)) from None
    except UnknownTask:
        raise ApiError(
            400, "unknown_task", f"no task named {body.task!r}; GET /api/v1/tasks lists them"
        ) from None
    except UnknownQueue as error:
        queues = ", ".join(ext.settings.worker.queues)
        raise ApiError(400, "unknown_queue", f"no queue named {error}; queues are {queues}") from None
    except JobIdTaken as error:
        raise ApiError(409, "job_id_taken", str(error)) from None
    response = jsonify(_view(result.job))
    response.status_code = 201 if result.created else 200
    response.headers["Location"] = url_for("api_v1.get_job", job_id=result.job.id)
    return response


def accepted(job: Job) -> Response:
    """The 202 answer of an endpoint that enqueued ``job`` for its work (body: ``JobAccepted``)."""
    response = jsonify({"job_id": job.id, "url": url_for("api_v1.get_job", job_id=job.id)})
    response.status_code = 202
    return response


@routes.get(
    "/jobs/<job_id>",
    "A job's state, result, attempts and progress",
    {200: (JobView, "The job")},
    errors=(*READ_ERRORS, 404),
)
def get_job(job_id: str) -> Response:
    return jsonify(_view(_fetch(job_id)))


@routes.delete(
    "/jobs/<job_id>",
    "Cancel a pending job or stop a running one",
    {200: (JobView, "Canceled")},
    errors=(401, 403, 404, 409, 503),
)
def cancel_job(job_id: str) -> Response:
    return jsonify(_view(cancel(state().connection, _fetch(job_id))))


@routes.post(
    "/jobs/<job_id>/requeue",
    "Put a failed, stopped or canceled job back on its queue",
    {200: (JobView, "Requeued")},
    errors=(401, 403, 404, 409, 503),
)
def requeue_job(job_id: str) -> Response:
    return jsonify(_view(requeue(state().connection, _fetch(job_id))))
