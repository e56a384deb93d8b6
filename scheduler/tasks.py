"""A scheduled task as data: its definition (what a user sets) and its state, and their Redis encoding.

Times are milliseconds since the epoch, as the scheduled-task API shows them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.typing import EncodableT, FieldT
from rq.utils import as_text

from jobs.retry import RetryPolicy
from scheduler.cron import Schedule, parse_schedule
from scheduler.schedule_type import period_of, schedule_type

STATUSES = ("active", "paused", "running", "completed", "failed", "retry-scheduled")


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(value: int | float) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


@dataclass(frozen=True)
class Definition:
    """What a task is: everything a user sets. ``backoff`` is fixed, exponential or a list of ms."""

    name: str
    handler: str
    schedule: str
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    recurring: bool = True
    max_retries: int = 0
    retry_delay: int = 60_000
    backoff: str | list[int] = "fixed"
    allow_overlap: bool = False
    source: str = "api"
    on_success: str = ""  # id of a task to run each time a run of this one completes ("": none)
    max_interval: int = 0  # ms a recurring task may go without a success before it is missed (0: default)

    def parsed(self, now: datetime, anchor: datetime | None = None) -> Schedule:
        return parse_schedule(self.schedule, self.timezone, now=now, anchor=anchor)

    @property
    def missed_window(self) -> float | None:
        """Seconds without a success before this task counts as missed, when it sets its own."""
        return self.max_interval / 1000 if self.max_interval else None

    def retry_policy(self) -> RetryPolicy:
        """This task's retries as the shared policy type (RQ Retry intervals are whole seconds)."""
        if isinstance(self.backoff, list):
            return RetryPolicy(self.max_retries, "list", delays=tuple(d / 1000 for d in self.backoff))
        return RetryPolicy(self.max_retries, self.backoff, delay=self.retry_delay / 1000)


@dataclass(frozen=True)
class Task:
    """A stored task: its definition plus state."""

    id: str
    definition: Definition
    status: str
    next_run: int | None
    retry_count: int
    last_execution: dict[str, Any] | None
    current_job: str | None
    created_at: int
    updated_at: int
    anchor: int
    last_success_at: int | None
    last_retry: int | None = None  # when the latest retry attempt started (ms)
    last_run: int | None = None  # when the latest attempt started (ms); a finished one-time task keeps it

    def schedule(self, now: datetime) -> Schedule:
        return self.definition.parsed(now, anchor=from_ms(self.anchor))

    def to_api(self, now: datetime) -> dict[str, Any]:
        """The task as the scheduled-task API shows it (times in ms since the epoch), plus nextRunAt in its time zone."""
        d = self.definition
        schedule = self.schedule(now)
        next_at = from_ms(self.next_run).astimezone(schedule.tz).isoformat() if self.next_run else None
        return {
            "id": self.id,
            "_key": self.id,
            "name": d.name,
            "description": d.description,
            "handler": d.handler,
            "params": dict(d.params),
            "schedule": d.schedule,
            "scheduleDescription": schedule.describe(),
            "scheduleType": schedule_type(schedule),
            "period": period_of(schedule),
            "timezone": d.timezone,
            "recurring": d.recurring,
            "maxRetries": d.max_retries,
            "retryDelay": d.retry_delay,
            "backoff": d.backoff,
            "allowOverlap": d.allow_overlap,
            "source": d.source,
            "onSuccess": d.on_success or None,
            "maxInterval": d.max_interval or None,
            "status": self.status,
            "nextRun": self.next_run,
            "nextRunAt": next_at,
            "lastExecution": self.last_execution,
            "retryCount": self.retry_count,
            "lastRetry": self.last_retry,
            "lastRun": self.last_run,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


def encode(definition: Definition) -> dict[FieldT, EncodableT]:
    raw = asdict(definition)
    return {
        "name": raw["name"],
        "handler": raw["handler"],
        "schedule": raw["schedule"],
        "description": raw["description"],
        "params": json.dumps(raw["params"]),
        "timezone": raw["timezone"],
        "recurring": "1" if raw["recurring"] else "0",
        "maxRetries": str(raw["max_retries"]),
        "retryDelay": str(raw["retry_delay"]),
        "backoff": json.dumps(raw["backoff"]),
        "allowOverlap": "1" if raw["allow_overlap"] else "0",
        "source": raw["source"],
        "onSuccess": raw["on_success"],
        "maxInterval": str(raw["max_interval"]),
    }


def decode(task_id: str, raw: Mapping[Any, Any]) -> Task:
    f = {as_text(k): as_text(v) for k, v in raw.items()}
    definition = Definition(
        name=f["name"],
        handler=f["handler"],
        schedule=f["schedule"],
        description=f.get("description", ""),
        params=json.loads(f.get("params") or "{}"),
        timezone=f.get("timezone", "UTC"),
        recurring=f.get("recurring") == "1",
        max_retries=int(f.get("maxRetries") or 0),
        retry_delay=int(f.get("retryDelay") or 0),
        backoff=json.loads(f.get("backoff") or '"fixed"'),
        allow_overlap=f.get("allowOverlap") == "1",
        source=f.get("source", "api"),
        on_success=f.get("onSuccess", ""),
        max_interval=int(f.get("maxInterval") or 0),
    )
    return Task(
        id=task_id,
        definition=definition,
        status=f.get("status", "active"),
        next_run=int(f["nextRun"]) if f.get("nextRun") else None,
        retry_count=int(f.get("retryCount") or 0),
        last_execution=json.loads(f["lastExecution"]) if f.get("lastExecution") else None,
        current_job=f.get("currentJob") or None,
        created_at=int(f["createdAt"]),
        updated_at=int(f["updatedAt"]),
        anchor=int(f.get("anchor") or f["createdAt"]),
        last_success_at=int(f["lastSuccessAt"]) if f.get("lastSuccessAt") else None,
        last_retry=int(f["lastRetry"]) if f.get("lastRetry") else None,
        last_run=int(f["lastRun"]) if f.get("lastRun") else None,
    )
