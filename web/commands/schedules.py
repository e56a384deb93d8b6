"""Scheduled-task state changes shared by /admin/scheduler and the schedules pages: create, update,
delete, run now, pause, resume, reset retries, replay a dead letter.

A page's button and the endpoint call the same function here, so they do the same thing. Definitions
are merged and checked by :func:`scheduler.definitions.build_definition`; its
:class:`~scheduler.definitions.DefinitionError` becomes a 400 ApiError here, a taken name a 409. ``now``
is always a parameter (the app's one clock, ``Taskyard.now``).
"""

from __future__ import annotations

from datetime import datetime

from redis import Redis
from rq.job import Job

from jobs.settings import Settings
from scheduler.definitions import DefinitionError, build_definition
from scheduler.executions import ExecutionLog
from scheduler.runner import enqueue_run
from scheduler.store import NameTaken
from scheduler.tasks import Definition, Task, ms
from web.admin.schemas import ScheduledTaskFields
from web.commands.jobs import fetch_job, requeue
from web.errors import ApiError
from web.read_model.schedules import LONGEST_ID, task_store


def definition_from(
    connection: Redis, settings: Settings, fields: ScheduledTaskFields, base: Definition | None, now: datetime
) -> Definition:
    """``fields`` merged over ``base`` and checked; a 400 ApiError names the field that is wrong."""
    try:
        return build_definition(
            fields.model_dump(exclude_unset=True),
            base,
            now,
            task_store(connection, settings),
            round(settings.worker.retry_delay * 1000),
        )
    except DefinitionError as error:
        raise ApiError(400, error.code, error.message) from None


def create(
    connection: Redis, settings: Settings, fields: ScheduledTaskFields, now: datetime, status: str = "active"
) -> Task:
    """Store a new task (``status`` active or paused); a 409 ApiError when the name is taken."""
    definition = definition_from(connection, settings, fields, None, now)
    try:
        return task_store(connection, settings).create(definition, now, status=status)
    except NameTaken:
        raise ApiError(409, "name_taken", f"name: a task named {definition.name!r} exists") from None


def update(
    connection: Redis, settings: Settings, task: Task, fields: ScheduledTaskFields, now: datetime
) -> Task:
    """Change ``task``'s definition (replanned at once) and, when ``fields.status`` says so, pause or
    resume it. Returns the task as stored afterwards."""
    store = task_store(connection, settings)
    definition = definition_from(connection, settings, fields, task.definition, now)
    try:
        updated = store.update(task, definition, now)
    except NameTaken:
        raise ApiError(409, "name_taken", f"name: a task named {fields.name!r} exists") from None
    if fields.status == "paused" and updated.status != "paused":
        store.pause(updated, now)
    elif fields.status == "active" and updated.status == "paused":
        store.resume(updated, now)
    return store.get(task.id) or updated


def delete(connection: Redis, settings: Settings, task: Task) -> None:
    task_store(connection, settings).delete(task)


def run_now(connection: Redis, settings: Settings, task: Task, now: datetime) -> Job:
    """Enqueue a manual run of ``task`` (its schedule is unchanged); a 409 ApiError when one was
    started in the same millisecond (the job id is per millisecond, so it would be the same run)."""
    job = enqueue_run(connection, settings, task, f"sched-{task.id}-manual-{ms(now)}", occurrence_ms=None)
    if job is None:
        raise ApiError(409, "already_running", "a manual run was started this millisecond; try again")
    task_store(connection, settings).set_fields(task.id, currentJob=job.id)
    return job


def pause(connection: Redis, settings: Settings, task: Task, now: datetime) -> None:
    task_store(connection, settings).pause(task, now)


def resume(connection: Redis, settings: Settings, task: Task, now: datetime) -> None:
    """Resume a paused task (replanned from ``now``); any other task is left as it is."""
    if task.status == "paused":
        task_store(connection, settings).resume(task, now)


def reset_retries(connection: Redis, settings: Settings, task: Task) -> None:
    """Set ``retryCount`` to 0. A failed recurring task becomes ``active`` again (its schedule goes on);
    a failed one-time task stays ``failed``: it did not succeed, and a manual run runs it again."""
    store = task_store(connection, settings)
    store.set_fields(task.id, retryCount="0")
    if task.status in ("failed", "retry-scheduled") and (task.next_run or task.definition.recurring):
        store.set_status(task.id, "active")


def replay_dead_letter(connection: Redis, job_id: str) -> Job:
    """Put a scheduled run that failed for good back on its queue (it leaves the dead letters); a 404
    ApiError when ``job_id`` is not a dead letter."""
    if len(job_id) > LONGEST_ID or not ExecutionLog(connection).is_dead_letter(job_id):
        raise ApiError(404, "dead_letter_not_found", f"no dead letter {job_id!r}")
    return requeue(connection, fetch_job(connection, job_id))
