"""Execution history of scheduled tasks, and the dead-letter list of runs that exhausted their retries.

Each attempt of a run is one record: ``{id, taskId, jobId, status, startTime, duration, error, result,
attempt, lateness, createdAt}`` with times in ms. Statuses: ``running``, ``completed``, ``failed``,
``retry-scheduled`` (failed, RQ will retry it), ``skipped`` (an occurrence not started because the
previous run was still going) and ``abandoned`` (its worker died; RQ's cleanup fails or retries the job).
A task keeps its newest ``HISTORY_LIMIT`` records.
"""

from __future__ import annotations

import json
from typing import Any, cast

from redis import Redis

from jobs import keys
from jobs.connection import scored, texts

HISTORY_LIMIT = 1000  # records kept per task, newest first
EXECUTION_STATUSES = ("running", "completed", "failed", "retry-scheduled", "skipped", "abandoned")


def _decode(raw: Any) -> dict[str, Any]:
    """One stored record; records written before ``createdAt`` existed get their start time."""
    record: dict[str, Any] = json.loads(raw)
    record.setdefault("createdAt", record.get("startTime"))
    return record


class ExecutionLog:
    """Append, update and page through execution records; keep the dead-letter list."""

    def __init__(self, connection: Redis) -> None:
        self.connection = connection

    def record(self, task_id: str, execution: dict[str, Any]) -> None:
        """Insert or replace ``execution`` (keyed by its ``id``) and trim old records. A record gets
        ``createdAt`` (ms) the first time it is written: its start time, as the design note shows."""
        execution.setdefault("createdAt", execution["startTime"])
        order_key = keys.sched_execution_order(task_id)
        with self.connection.pipeline() as pipe:
            pipe.hset(keys.sched_executions(task_id), execution["id"], json.dumps(execution))
            pipe.zadd(order_key, {execution["id"]: execution["startTime"]}, nx=True)
            pipe.zcard(order_key)
            size = pipe.execute()[-1]
        if size > HISTORY_LIMIT:
            self._trim(task_id, size - HISTORY_LIMIT)

    def _trim(self, task_id: str, excess: int) -> None:
        order_key = keys.sched_execution_order(task_id)
        oldest = self.connection.zrange(order_key, 0, excess - 1)
        if oldest:
            with self.connection.pipeline() as pipe:
                pipe.zrem(order_key, *oldest)
                pipe.hdel(keys.sched_executions(task_id), *oldest)
                pipe.execute()

    def get(self, task_id: str, execution_id: str) -> dict[str, Any] | None:
        raw = self.connection.hget(keys.sched_executions(task_id), execution_id)
        record: dict[str, Any] | None = _decode(raw) if raw else None
        return record

    def page(
        self, task_id: str, page: int = 1, per_page: int = 20, status: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Newest first. A status filter reads the (bounded) whole history."""
        order_key = keys.sched_execution_order(task_id)
        start = (page - 1) * per_page
        if status is None:
            ids = self.connection.zrevrange(order_key, start, start + per_page - 1)
            total = int(self.connection.zcard(order_key))
            return self._load(task_id, ids), total
        records = [
            r
            for r in self._load(task_id, self.connection.zrevrange(order_key, 0, -1))
            if r["status"] == status
        ]
        return records[start : start + per_page], len(records)

    def latest_many(self, task_ids: list[str], count: int) -> dict[str, list[dict[str, Any]]]:
        """The newest ``count`` records of each task, newest first, in two round trips."""
        with self.connection.pipeline(transaction=False) as pipe:
            for task_id in task_ids:
                pipe.zrevrange(keys.sched_execution_order(task_id), 0, count - 1)
            id_lists = pipe.execute()
        with self.connection.pipeline(transaction=False) as pipe:
            for task_id, ids in zip(task_ids, id_lists, strict=True):
                if ids:
                    pipe.hmget(keys.sched_executions(task_id), ids)
            raws = iter(pipe.execute())
        return {
            task_id: [_decode(raw) for raw in next(raws) if raw] if ids else []
            for task_id, ids in zip(task_ids, id_lists, strict=True)
        }

    def _load(self, task_id: str, ids: list[Any]) -> list[dict[str, Any]]:
        if not ids:
            return []
        raws = self.connection.hmget(keys.sched_executions(task_id), ids)
        return [_decode(raw) for raw in raws if raw]

    def older_than(self, task_id: str, cutoff_ms: int) -> list[str]:
        """Execution ids that started before ``cutoff_ms`` (for log cleanup)."""
        return texts(self.connection.zrangebyscore(keys.sched_execution_order(task_id), 0, cutoff_ms))

    def remove(self, task_id: str, execution_ids: list[str]) -> None:
        if execution_ids:
            with self.connection.pipeline() as pipe:
                pipe.zrem(keys.sched_execution_order(task_id), *execution_ids)
                pipe.hdel(keys.sched_executions(task_id), *execution_ids)
                pipe.execute()

    # --- dead letters ------------------------------------------------------------------------------
    def add_dead_letter(self, job_id: str, failed_at_ms: int) -> None:
        self.connection.zadd(keys.SCHED_DEAD, {job_id: failed_at_ms})

    def is_dead_letter(self, job_id: str) -> bool:
        return self.connection.zscore(keys.SCHED_DEAD, job_id) is not None

    def remove_dead_letter(self, job_id: str) -> bool:
        return bool(self.connection.zrem(keys.SCHED_DEAD, job_id))

    def dead_letters(self, page: int = 1, per_page: int = 20) -> tuple[list[tuple[str, int]], int]:
        """(RQ job id, failed at ms), newest first."""
        start = (page - 1) * per_page
        found = cast(
            list[tuple[bytes, float]],
            self.connection.zrevrange(keys.SCHED_DEAD, start, start + per_page - 1, withscores=True),
        )
        return [(j, int(s)) for j, s in scored(found)], int(self.connection.zcard(keys.SCHED_DEAD))
