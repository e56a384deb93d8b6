"""Dead letters: failed jobs grouped by task and scheduled task, with filters, select-all and bulk
replay / discard; the failed jobs one by one; failed webhook deliveries, with bulk replay / discard.

Grouping and the bulk actions are ``/api/v1/dead-letters``'s own code (:mod:`web.read_model.dead_letters`,
:mod:`web.commands.dead_letters`); a group's buttons act on exactly the jobs of the group.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for

from web.api.job_schemas import MAX_ACTION_IDS
from web.commands.dead_letters import act_on_deliveries, act_on_failed_jobs
from web.commands.jobs import fetch_job, requeue
from web.errors import ApiError
from web.extension import state
from web.pages import pagination, render
from web.read_model.dead_letters import job_groups, recently_replayed
from web.read_model.queries import failed_jobs_page
from web.read_model.webhooks import deliveries as list_deliveries

DELIVERIES_SHOWN = 20  # failed webhook deliveries listed here; the webhooks page pages through all
KINDS = ("", "job", "webhook")
PAST = {"replay": "replayed", "discard": "discarded"}


def dead_letters() -> Response:
    ext = state()
    page, per_page = pagination()
    kind = request.args.get("kind", "")
    if kind not in KINDS:
        raise ApiError(400, "validation_error", "kind: expected job or webhook (or nothing for both)")
    task = request.args.get("task", "").strip() or None
    scheduled_task = request.args.get("scheduled_task", "").strip() or None
    grouped = job_groups(ext.connection, ext.settings.worker.queues, task, scheduled_task)
    result = failed_jobs_page(ext.connection, ext.settings.worker.queues, page, per_page)
    deliveries, total = list_deliveries(ext.connection, None, "failed", 1, DELIVERIES_SHOWN)
    return render(
        "dead_letters.html",
        "_dead_letters_figures.html",
        grouped=grouped,
        replayed=recently_replayed(ext.connection),
        result=result,
        deliveries=deliveries,
        deliveries_total=total,
        kind=kind,
        task=task or "",
        scheduled_task=scheduled_task or "",
    )


def replay(job_id: str) -> Response:
    """Put one failed job back on its queue (the API's requeue: web.commands.jobs.requeue)."""
    connection = state().connection
    job = requeue(connection, fetch_job(connection, job_id))
    flash(f"job {job_id} is back on queue {job.origin}")
    return redirect(url_for("pages.dead_letters"))  # type: ignore[return-value]


def bulk(action: str) -> Response:
    """Replay or discard the ticked groups' jobs (``group`` = their ids) or ticked deliveries."""
    if action not in PAST:
        raise ApiError(404, "unknown_action", f"no action {action!r}")
    kind = request.form.get("kind", "job")
    if kind == "webhook":
        ids = request.form.getlist("delivery")
    else:
        ids = [i for value in request.form.getlist("group") for i in value.split() if i]
    if not ids:
        raise ApiError(400, "validation_error", "tick at least one row first")
    ext = state()
    ids = ids[:MAX_ACTION_IDS]
    if kind == "webhook":
        outcome = act_on_deliveries(ext.connection, ext.settings, action, ids, False, MAX_ACTION_IDS)
    else:
        outcome = act_on_failed_jobs(
            ext.connection, ext.settings, action, {"ids": ids}, False, MAX_ACTION_IDS
        )
    noun = (
        "deliver" + ("ies" if outcome["done"] != 1 else "y")
        if kind == "webhook"
        else "job" + ("s" if outcome["done"] != 1 else "")
    )
    message = f"{PAST[action]} {outcome['done']} {noun}"
    if outcome["errors"]:
        message += f"; {len(outcome['errors'])} refused ({outcome['errors'][0]['message']})"
    if action == "replay" and kind != "webhook" and outcome["ids"]:
        message += " — they are queued again; their pages show how the new attempt goes"
    flash(message)
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/dashboard/") else url_for("pages.dead_letters"))  # type: ignore[return-value]


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/dead-letters", "dead_letters", dead_letters, methods=["GET"])
    bp.add_url_rule("/dead-letters/actions/<action>", "dead_letters_bulk", bulk, methods=["POST"])
    bp.add_url_rule("/dead-letters/<job_id>/replay", "replay", replay, methods=["POST"])
