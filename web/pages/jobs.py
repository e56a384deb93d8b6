"""The jobs pages: the searchable list (filters in the URL, so a search can be shared) and one job's
page with retry / cancel / delete; bulk requeue and delete from the list.

The list is ``GET /api/v1/jobs``'s own search (:func:`web.api.job_listing.search_jobs`), the bulk buttons
are ``POST /api/v1/jobs/actions/*``'s own code (:func:`web.commands.jobs.act_on_jobs`) and the single-job
buttons call :mod:`web.commands.jobs`, so the pages and the API never disagree. Bad filter values are a 400
error page naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for
from pydantic import ValidationError

from jobs.registry import registry
from web.api.job_listing import search_jobs
from web.api.job_schemas import DEFAULT_LIMIT, JobAction, JobListQuery, parse_query
from web.commands.jobs import act_on_jobs, cancel, delete, fetch_job, requeue
from web.errors import ApiError, validation_error
from web.extension import state
from web.pages import render
from web.read_model.job_detail import job_detail
from web.read_model.job_search import FILTER_FIELDS, STATUSES
from web.read_model.queries import job_view

TIMES = ("enqueued_after", "enqueued_before", "ended_after", "ended_before")
VERBS = {"requeue": "requeued", "delete": "deleted"}


def _as_utc(value: str) -> str:
    """A ``datetime-local`` form value (no offset) is read as UTC; the form says so."""
    if value and "T" in value and not value.endswith("Z") and "+" not in value[10:] and "-" not in value[10:]:
        return value + ("" if value.count(":") >= 2 else ":00") + "+00:00"
    return value


def _query_args(source: dict[str, str]) -> dict[str, str]:
    args = {k: v.strip() for k, v in source.items() if k in (*FILTER_FIELDS, "limit", "cursor") and v.strip()}
    for name in TIMES:
        if name in args:
            args[name] = _as_utc(args[name])
    return args


def jobs() -> Response:
    args = request.args.to_dict()
    unknown = sorted(set(args) - {*FILTER_FIELDS, "limit", "cursor"})
    if unknown:
        raise ApiError(400, "validation_error", f"unknown filter {unknown[0]!r}")
    query = parse_query(JobListQuery, _query_args(args))
    page = search_jobs(query)
    items = [job_view(job, url_for("pages.job", job_id=job.id)) for job, _ in page.jobs]
    ext = state()
    filters = {name: args.get(name, "") for name in FILTER_FIELDS}
    return render(
        "jobs.html",
        "_jobs_figures.html",
        items=items,
        next_cursor=page.next_cursor,
        filters=filters,
        filtered=any(filters.values()),
        statuses=STATUSES,
        queues=ext.settings.worker.queues,
        tasks=sorted(spec.name for spec in registry),
        limit=query.limit,
        default_limit=DEFAULT_LIMIT,
        first_page="cursor" not in args,
    )


def job(job_id: str) -> Response:
    connection = state().connection
    found = fetch_job(connection, job_id)
    return render(
        "job.html",
        "_job_figures.html",
        job=job_detail(connection, found, url_for("api_v1.get_job", job_id=found.id)),
    )


def job_button(job_id: str, action: str) -> Response:
    """Retry (requeue), cancel or delete one job; back to its page (or to the list once deleted)."""
    connection = state().connection
    found = fetch_job(connection, job_id)
    if action == "retry":
        requeue(connection, found)
        flash(f"job {job_id} is back on queue {found.origin}")
    elif action == "cancel":
        cancel(connection, found)
        flash(f"job {job_id}: cancel requested")
    elif action == "delete":
        delete(connection, found)
        flash(f"job {job_id} deleted")
        return redirect(url_for("pages.jobs"))  # type: ignore[return-value]
    else:
        raise ApiError(404, "unknown_action", f"no action {action!r}")
    return redirect(url_for("pages.job", job_id=job_id))  # type: ignore[return-value]


def bulk(action: str) -> Response:
    """The list's bulk buttons: the ticked ``ids``, or every job matching the filters (``all=1``)."""
    if action not in VERBS:
        raise ApiError(404, "unknown_action", f"no action {action!r}")
    form = request.form
    fields: dict[str, Any] = {}
    if form.get("all") == "1":
        fields.update(_query_args({k: v for k, v in form.items() if k in FILTER_FIELDS}))
    else:
        fields["ids"] = form.getlist("ids")
        if not fields["ids"]:
            raise ApiError(400, "validation_error", "tick at least one job, or use the 'all matching' button")
    try:
        body = JobAction.model_validate_json(json.dumps(fields))
    except ValidationError as error:
        raise validation_error(error) from None
    ext = state()
    outcome = act_on_jobs(ext.connection, ext.settings, action, body)
    message = f"{VERBS[action]} {outcome['done']} job{'s' if outcome['done'] != 1 else ''}"
    if outcome["errors"]:
        message += f"; {len(outcome['errors'])} refused ({outcome['errors'][0]['message']})"
    if outcome["more"]:
        message += "; more match: press again for the next ones"
    flash(message)
    back = form.get("back", "")
    return redirect(back if back.startswith("/dashboard/") else url_for("pages.jobs"))  # type: ignore[return-value]


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/jobs", "jobs", jobs, methods=["GET"])
    bp.add_url_rule("/jobs/actions/<action>", "jobs_bulk", bulk, methods=["POST"])
    bp.add_url_rule("/jobs/<job_id>", "job", job, methods=["GET"])
    bp.add_url_rule("/jobs/<job_id>/<action>", "job_button", job_button, methods=["POST"])
