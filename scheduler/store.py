"""Scheduled tasks in Redis: definitions (data, not code) and their scheduling state.

A task is a Redis hash (``keys.sched_task``) with the scheduled-task API's fields. Writers touch only their own
fields with HSET, so the API (definition, pause), the scheduler (nextRun, currentJob) and the worker
(status, lastExecution, retryCount) never overwrite each other's updates. Active tasks sit in the
``SCHED_DUE`` sorted set scored by their next run (epoch seconds with sub-second precision); paused and
finished tasks are not in it, so a scheduler pass reads only due work.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import datetime

from redis import Redis
from redis.client import Pipeline
from redis.typing import EncodableT, FieldT
from rq.utils import as_text

from jobs import keys
from jobs.connection import scored, texts
from scheduler.health import deadline, expect
from scheduler.tasks import Definition, Task, decode, encode, from_ms, ms

SCAN_CHUNK = 5000  # tasks read per round trip (one SORT, a few ms of Redis time) when a listing filters

# Advance the due entry only if it still holds the occurrence we fired (another leader may have won).
ADVANCE = """
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not current or tonumber(current) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
redis.call('HSET', KEYS[2], 'nextRun', ARGV[4])
return 1
"""

# Set a status unless the task is paused (a pause outranks what a finishing run reports).
SET_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = redis.call('HGET', KEYS[1], 'status')
if current == 'paused' and ARGV[1] ~= 'paused' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], unpack(ARGV, 2))
return 1
"""


class NameTaken(ValueError):
    """Another task already has this name."""


class TaskStore:
    """CRUD, listing and scheduling state of tasks. ``now`` is always passed in."""

    def __init__(self, connection: Redis, grace: float = 60.0) -> None:
        self.connection = connection
        self.grace = grace  # seconds past a period before a recurring task counts as missed
        self._advance = connection.register_script(ADVANCE)
        self._set_status = connection.register_script(SET_STATUS)

    # --- reading -----------------------------------------------------------------------------------
    def get(self, task_id: str) -> Task | None:
        raw = self.connection.hgetall(keys.sched_task(task_id))
        return decode(task_id, raw) if raw else None

    def get_many(self, ids: Iterable[str]) -> list[Task]:
        ids = list(ids)
        with self.connection.pipeline(transaction=False) as pipe:
            for task_id in ids:
                pipe.hgetall(keys.sched_task(task_id))
            raws = pipe.execute()
        return [decode(task_id, raw) for task_id, raw in zip(ids, raws, strict=True) if raw]

    def id_for_name(self, name: str) -> str | None:
        found = self.connection.hget(keys.SCHED_NAMES, name)
        return as_text(found) if found else None

    def count(self) -> int:
        return int(self.connection.zcard(keys.SCHED_ALL))

    def page(
        self,
        page: int = 1,
        per_page: int = 20,
        status: str | None = None,
        handler: str | None = None,
        name: str | None = None,
    ) -> tuple[list[Task], int]:
        """One page of tasks, oldest first, and the total matching. Without filters only the page is
        read; with filters the filtered fields of every task are read in chunks (one SORT ... GET each) and
        only the page's tasks in full (figures for 100,000 tasks in bench/README.md)."""
        start = (page - 1) * per_page
        if not (status or handler or name):
            ids = texts(self.connection.zrange(keys.SCHED_ALL, start, start + per_page - 1))
            return self.get_many(ids), self.count()
        # (field, test of its raw value) for each filter given; the connection answers bytes
        tests: list[tuple[str, Callable[[bytes], bool]]] = []
        if name:
            needle = name.lower()
            tests.append(("name", lambda raw: needle in raw.decode().lower()))
        for field, wanted in (("handler", handler), ("status", status)):
            if wanted:
                tests.append((field, wanted.encode().__eq__))
        pattern = keys.sched_task("*") + "->"
        matched: list[str] = []
        for offset in range(0, self.count(), SCAN_CHUNK):
            # One SORT BY nosort reads ids (in listing order) and only the filtered fields of a chunk:
            # Redis looks the fields up itself, instead of one HMGET per task built and parsed here.
            get = ["#", *(pattern + field for field, _ in tests)]
            flat = self.connection.sort(keys.SCHED_ALL, offset, SCAN_CHUNK, by="nosort", get=get)
            columns = [flat[column :: len(get)] for column in range(len(get))]  # type: ignore[index]
            for task_id, *values in zip(*columns, strict=True):
                if None in values:
                    continue  # deleted meanwhile
                if all(test(value) for (_, test), value in zip(tests, values, strict=True)):
                    matched.append(as_text(task_id))
        return self.get_many(matched[start : start + per_page]), len(matched)

    def due(self, now: float, limit: int = 500) -> list[tuple[str, float]]:
        """Active tasks whose next run is at or before ``now`` (epoch seconds), soonest first."""
        found = self.connection.zrangebyscore(
            keys.SCHED_DUE, "-inf", now, start=0, num=limit, withscores=True
        )
        return scored(found)

    def next_due(self) -> float | None:
        """Epoch seconds of the soonest next run, or None when nothing is scheduled."""
        head = scored(self.connection.zrange(keys.SCHED_DUE, 0, 0, withscores=True))
        return head[0][1] if head else None

    # --- writing -----------------------------------------------------------------------------------
    def create(
        self, definition: Definition, now: datetime, status: str = "active", task_id: str | None = None
    ) -> Task:
        """Store a new task (status ``active`` or ``paused``) and schedule its first run."""
        task_id = task_id or f"task-{secrets.token_hex(6)}"
        taken = not self.connection.hsetnx(keys.SCHED_NAMES, definition.name, task_id)
        if taken and self.id_for_name(definition.name) != task_id:
            raise NameTaken(definition.name)
        first = definition.parsed(now).first_run(now)
        fields: dict[FieldT, EncodableT] = {
            **encode(definition),
            "status": status,
            "retryCount": "0",
            "createdAt": str(ms(now)),
            "updatedAt": str(ms(now)),
            "anchor": str(ms(now)),
            "nextRun": str(ms(first)) if first and status == "active" else "",
        }
        with self.connection.pipeline() as pipe:
            pipe.hset(keys.sched_task(task_id), mapping=fields)
            pipe.zadd(keys.SCHED_ALL, {task_id: ms(now)})
            if first is not None and status == "active":
                pipe.zadd(keys.SCHED_DUE, {task_id: first.timestamp()})
            pipe.execute()
        if first is not None and status == "active" and definition.recurring:
            expect(
                self.connection,
                task_id,
                deadline(definition.parsed(now), first, self.grace, definition.missed_window),
            )
        task = self.get(task_id)
        assert task is not None
        return task

    def update(self, task: Task, definition: Definition, now: datetime) -> Task:
        """Replace a task's definition; a changed schedule or time zone is re-planned from ``now``."""
        if definition.name != task.definition.name:
            if not self.connection.hsetnx(keys.SCHED_NAMES, definition.name, task.id):
                raise NameTaken(definition.name)
            self.connection.hdel(keys.SCHED_NAMES, task.definition.name)
        fields: dict[FieldT, EncodableT] = {**encode(definition), "updatedAt": str(ms(now))}
        replan = (definition.schedule, definition.timezone) != (
            task.definition.schedule,
            task.definition.timezone,
        )
        with self.connection.pipeline() as pipe:
            pipe.hset(keys.sched_task(task.id), mapping=fields)
            if replan:
                pipe.hset(keys.sched_task(task.id), "anchor", str(ms(now)))
            pipe.execute()
        if replan and task.status not in ("paused",):
            schedule = definition.parsed(now)
            first = schedule.first_run(now)
            self.plan(task.id, first, status="active")
            if first is not None and definition.recurring:
                expect(
                    self.connection, task.id, deadline(schedule, first, self.grace, definition.missed_window)
                )
        elif definition.max_interval != task.definition.max_interval and task.status != "paused":
            self._rewindow(task, definition, now)
        updated = self.get(task.id)
        assert updated is not None
        return updated

    def _rewindow(self, task: Task, definition: Definition, now: datetime) -> None:
        """A changed ``maxInterval``: move the missed-run deadline now, counted from the last success
        (or the next planned run when there was none yet), instead of at the next success."""
        start = task.last_success_at or task.next_run
        if not definition.recurring or start is None:
            return
        moment = from_ms(start)
        expect(
            self.connection,
            task.id,
            deadline(definition.parsed(now), moment, self.grace, definition.missed_window),
        )

    def plan(self, task_id: str, next_run: datetime | None, status: str | None = None) -> None:
        """Set (or clear) the next run, and optionally the status, of a task."""
        with self.connection.pipeline() as pipe:
            if next_run is None:
                pipe.zrem(keys.SCHED_DUE, task_id)
            else:
                pipe.zadd(keys.SCHED_DUE, {task_id: next_run.timestamp()})
            mapping: dict[FieldT, EncodableT] = {"nextRun": str(ms(next_run)) if next_run else ""}
            if status:
                mapping["status"] = status
            pipe.hset(keys.sched_task(task_id), mapping=mapping)
            pipe.execute()

    def advance(
        self, task_id: str, fired_score: float, next_run: datetime | None, pipe: Pipeline | None = None
    ) -> bool:
        """Move a task's due entry from the occurrence just fired to ``next_run`` (or drop it).
        False when the entry no longer holds ``fired_score`` (someone else advanced or changed it)."""
        result = self._advance(
            keys=[keys.SCHED_DUE, keys.sched_task(task_id)],
            client=pipe,
            args=[
                task_id,
                repr(fired_score),
                repr(next_run.timestamp()) if next_run else "",
                str(ms(next_run)) if next_run else "",
            ],
        )
        return bool(result)

    def set_status(self, task_id: str, status: str, **fields: str) -> bool:
        """Set status (and other fields) unless the task is paused; False if paused or gone."""
        flat: list[str] = []
        for name, value in fields.items():
            flat += [name, value]
        return bool(self._set_status(keys=[keys.sched_task(task_id)], args=[status, *flat]))

    def set_fields(self, task_id: str, pipe: Pipeline | None = None, **fields: str) -> None:
        mapping: dict[FieldT, EncodableT] = {name: value for name, value in fields.items()}
        (pipe if pipe is not None else self.connection).hset(keys.sched_task(task_id), mapping=mapping)

    def pause(self, task: Task, now: datetime) -> None:
        """Stop future runs; the definition and history stay."""
        with self.connection.pipeline() as pipe:
            pipe.zrem(keys.SCHED_DUE, task.id)
            pipe.hset(
                keys.sched_task(task.id),
                mapping={"status": "paused", "nextRun": "", "updatedAt": str(ms(now))},
            )
            pipe.execute()
        expect(self.connection, task.id, None)

    def resume(self, task: Task, now: datetime) -> None:
        """Plan the next run from ``now`` (missed runs while paused are not caught up)."""
        schedule = task.schedule(now)
        next_run = schedule.next_after(now) if schedule.recurring else schedule.first_run(now)
        status = "active" if next_run or schedule.recurring else "completed"
        self.plan(task.id, next_run, status=status)
        self.set_fields(task.id, updatedAt=str(ms(now)))
        if next_run is not None and task.definition.recurring:
            expect(
                self.connection,
                task.id,
                deadline(schedule, next_run, self.grace, task.definition.missed_window),
            )

    def delete(self, task: Task) -> None:
        with self.connection.pipeline() as pipe:
            pipe.delete(
                keys.sched_task(task.id), keys.sched_executions(task.id), keys.sched_execution_order(task.id)
            )
            pipe.zrem(keys.SCHED_ALL, task.id)
            pipe.zrem(keys.SCHED_DUE, task.id)
            pipe.zrem(keys.SCHED_EXPECTED, task.id)
            pipe.hdel(keys.SCHED_NAMES, task.definition.name)
            pipe.execute()
