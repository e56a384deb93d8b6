"""Dead letters: failed jobs across every queue, with replay (requeue)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, url_for

from jobs.webhook_store import WebhookStore
from web.commands import fetch_job, requeue
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
    """Put one failed job back on its queue (the API's requeue: web.commands.requeue)."""
    connection = state().connection
    job = requeue(connection, fetch_job(connection, job_id))
    flash(f"job {job_id} is back on queue {job.origin}")
    return redirect(url_for("pages.dead_letters"))  # type: ignore[return-value]


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/dead-letters", "dead_letters", dead_letters, methods=["GET"])
    bp.add_url_rule("/dead-letters/<job_id>/replay", "replay", replay, methods=["POST"])
