"""GET /api/v1/jobs: list and search jobs, newest first, a cursor page at a time.

The reading is :func:`web.read_model.queries.list_jobs` (see :mod:`web.read_model.job_search` for how it stays cheap at
millions of jobs and what the cursor guarantees)."""

from __future__ import annotations

from flask import Response, jsonify, request, url_for

from web.api.job_schemas import JobList, JobListQuery, check_queue, filter_parameters, parse_query
from web.api.openapi import query_param
from web.api.routes import Routes
from web.errors import ApiError
from web.extension import state
from web.read_model.job_search import MAX_LIMIT, InvalidCursor, JobPage
from web.read_model.queries import job_view, list_jobs

routes = Routes("/api/v1")
PAGING = (
    query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Jobs per page"),
    query_param("cursor", {"type": "string", "maxLength": 20_000}, "next_cursor of the previous page"),
)


def search_jobs(query: JobListQuery) -> JobPage:
    """The page ``query`` asks for (shared with the jobs page), or a 400 for a bad queue or cursor."""
    ext = state()
    check_queue(query.queue, ext.settings.worker.queues)
    try:
        return list_jobs(
            ext.connection, query.to_filter(ext.settings.worker.queues), query.limit, query.cursor
        )
    except InvalidCursor as error:
        raise ApiError(400, "invalid_cursor", f"cursor: {error}; start again without one") from None


@routes.get(
    "/jobs",
    "List and search jobs, newest first (cursor pagination)",
    {200: (JobList, "A page of jobs")},
    errors=(400, 401, 503),
    parameters=(*filter_parameters(), *PAGING),
    name="list_jobs",
)
def list_jobs_endpoint() -> Response:
    query = parse_query(JobListQuery, request.args.to_dict())
    page = search_jobs(query)
    items = [job_view(job, url_for("api_v1.get_job", job_id=job.id)) for job, _ in page.jobs]
    return jsonify({"items": items, "next_cursor": page.next_cursor, "limit": query.limit})
