"""Dead-letter state changes shared by ``POST /api/v1/dead-letters/{replay,discard}`` and the
dead-letters page's bulk buttons: one kind at a time.

Failed jobs (``kind=job``) are chosen by ids or by task and scheduled task: a dry run of
:func:`web.commands.jobs.act_on_jobs` finds them, a failed webhook delivery's own job is left out (it
is acted on as the delivery), then replay is the job requeue and discard deletes the job. Failed
webhook deliveries (``kind=webhook``) are chosen by ids, or the newest ``limit`` of them; replay starts
a fresh retry cycle, discard deletes the delivery and its attempt log. ``dry_run`` counts without
changing anything.
"""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq.job import Job

from jobs.settings import Settings
from jobs.webhooks import delivery as webhook_delivery
from web.api.job_schemas import JobAction
from web.commands.jobs import act_on_jobs
from web.commands.webhooks import discard_delivery
from web.errors import ApiError
from web.read_model.dead_letters import failed_delivery_ids, is_delivery_job
from web.read_model.webhooks import failed_delivery

VERBS = {"replay": "requeue", "discard": "delete"}


def act_on_deliveries(
    connection: Redis, settings: Settings, action: str, ids: list[str] | None, dry_run: bool, limit: int
) -> dict[str, Any]:
    """Replay or discard failed deliveries (``ids``; None: the newest ``limit``); the others are refused."""
    if ids is not None:
        chosen, more = list(dict.fromkeys(ids))[:limit], False
    else:
        chosen, total = failed_delivery_ids(connection, limit)
        more = total > len(chosen)
    done: list[str] = []
    problems: list[dict[str, Any]] = []
    for delivery_id in chosen:
        delivery = failed_delivery(connection, delivery_id)
        if delivery is None:
            problems.append(
                {
                    "id": delivery_id,
                    "code": "not_a_dead_letter",
                    "message": f"{delivery_id!r} is not a failed delivery",
                }
            )
            continue
        if not dry_run:
            if action == "replay":
                try:
                    webhook_delivery.replay(connection, settings, delivery_id)
                except webhook_delivery.NotReplayable as error:
                    problems.append({"id": delivery_id, "code": "not_replayable", "message": str(error)})
                    continue
            else:
                discard_delivery(connection, delivery)
        done.append(delivery_id)
    return {"action": action, "dry_run": dry_run, "matched": len(chosen), "done": 0 if dry_run else len(done),
            "ids": done, "errors": problems, "more": more}  # fmt: skip


def act_on_failed_jobs(
    connection: Redis, settings: Settings, action: str, fields: dict[str, Any], dry_run: bool, limit: int
) -> dict[str, Any]:
    """Requeue (replay) or delete (discard) the failed jobs ``fields`` name (``ids``, or ``task`` and
    ``scheduled_task``), leaving out webhook deliveries' jobs."""
    verb = VERBS[action]
    found = act_on_jobs(
        connection, settings, verb, JobAction.model_validate({**fields, "dry_run": True, "limit": limit})
    )
    jobs = Job.fetch_many(found["ids"], connection=connection)
    ids = [job.id for job in jobs if job is not None and not is_delivery_job(job)]
    if dry_run or not ids:
        return {**found, "action": action, "ids": ids, "matched": len(ids), "dry_run": dry_run}
    result = act_on_jobs(connection, settings, verb, JobAction.model_validate({"ids": ids}))
    return {**result, "action": action, "errors": found["errors"] + result["errors"], "more": found["more"]}


def check_action(action: str) -> None:
    """A 404 for anything but ``replay`` and ``discard``."""
    if action not in VERBS:
        raise ApiError(404, "unknown_action", f"no action {action!r}; actions are replay, discard")
