"""Dead letters: failed jobs across every queue, with replay (requeue)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, url_for
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from jobs.webhook_store import WebhookStore
from web.api.schemas import JOB_ID_PATTERN
from web.errors import ApiError
from web.extension import state
from web.pages import pagination, render
from web.queries import failed_jobs_page

DELIVERIES_SHOWN = 20  # failed webhook deliveries listed here; the webhooks page pages through all


def dead_letters() -> Response:
    ext = state()
    page, per_page = pagination()
    result = failed_jobs_page(ext.connection, ext.settings.queues, page, per_page)
    deliveries, total = WebhookStore(ext.connection).list_deliveries(None, "failed", 1, DELIVERIES_SHOWN)
    return render(
        "dead_letters.html",
        "_dead_letters_figures.html",
        result=result,
        deliveries=[d.public() for d in deliveries],
        deliveries_total=total,
    )


def replay(job_id: str) -> Response:
    """Put one failed job back on its queue (what the API's requeue does for a failed job)."""
    if not re.match(JOB_ID_PATTERN, job_id):
        raise ApiError(404, "job_not_found", f"no job {job_id!r}")
    try:
        job = Job.fetch(job_id, connection=state().connection)
    except NoSuchJobError:
        raise ApiError(404, "job_not_found", f"no job {job_id!r}") from None
    if job.get_status() != JobStatus.FAILED:
        raise ApiError(409, "not_failed", f"job {job_id!r} is not failed; only failed jobs are replayed")
    job.requeue()
    job.meta["requeued_at"] = datetime.now(UTC).isoformat()
    job.save_meta()
    flash(f"job {job_id} is back on queue {job.origin}")
    return redirect(url_for("pages.dead_letters"))  # type: ignore[return-value]


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/dead-letters", "dead_letters", dead_letters, methods=["GET"])
    bp.add_url_rule("/dead-letters/<job_id>/replay", "replay", replay, methods=["POST"])
