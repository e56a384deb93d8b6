"""Bodies of /admin/scheduler, with the scheduled-task API's camelCase field names."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from scheduler.cron import ScheduleError, parse_duration

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,99}$"
MAX_DELAY_MS = 7 * 24 * 3600 * 1000  # one retry waits at most a week
MAX_WINDOW_MS = 366 * 24 * 3600 * 1000  # a missed-run window of more than a year is a typo


def _delay_ms(value: Any) -> int:
    return _duration_ms(value, MAX_DELAY_MS, "a delay is between 0 and 7 days")


def _duration_ms(value: Any, highest: int, out_of_range: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("a delay is milliseconds (a whole number) or a duration such as '5m'")
    if isinstance(value, str):
        try:
            value = int(parse_duration(value).total_seconds() * 1000)
        except ScheduleError as error:
            raise ValueError(str(error)) from None
    if not 0 <= value <= highest:
        raise ValueError(out_of_range)
    return value


class ScheduledTaskFields(BaseModel):
    """Fields shared by create and update; all optional here, required ones enforced on create."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    description: str | None = Field(default=None, max_length=500)
    handler: str | None = Field(default=None, min_length=1, max_length=200)
    params: dict[str, JsonValue] | None = Field(default=None, max_length=100)
    schedule: str | None = Field(default=None, min_length=1, max_length=200)
    recurring: bool | None = None
    maxRetries: int | None = Field(default=None, ge=0, le=25)
    retryDelay: int | str | None = None
    backoff: Literal["fixed", "exponential"] | list[int | str] | None = None
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    allowOverlap: bool | None = None
    status: Literal["active", "paused"] | None = None
    onSuccess: str | None = Field(
        default=None, max_length=200, description="Id or name of a task to run after each successful run"
    )
    maxInterval: int | str | None = Field(
        default=None,
        description="ms (or a duration such as '25h') without a success before the task counts as missed; "
        "replaces one period + MISSED_SCHEDULE_GRACE",
    )

    @field_validator("maxInterval")
    @classmethod
    def _max_interval(cls, value: int | str | None) -> int | None:
        if value is None:
            return None
        window = _duration_ms(value, MAX_WINDOW_MS, "maxInterval is between 1 second and 366 days")
        if window < 1000:
            raise ValueError("maxInterval is between 1 second and 366 days")
        return window

    @field_validator("retryDelay")
    @classmethod
    def _retry_delay(cls, value: int | str | None) -> int | None:
        return None if value is None else _delay_ms(value)

    @field_validator("backoff")
    @classmethod
    def _backoff(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not 1 <= len(value) <= 25:
                raise ValueError("a backoff list has 1 to 25 delays")
            return [_delay_ms(v) for v in value]
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"[<>\"'&;]", value):
            raise ValueError("names are letters, digits, spaces and _ . : -")
        return value


class ScheduledTaskCreate(ScheduledTaskFields):
    """POST /admin/scheduler: ``name``, ``handler`` and ``schedule`` are required."""

    name: str = Field(pattern=NAME_PATTERN)
    handler: str = Field(min_length=1, max_length=200)
    schedule: str = Field(min_length=1, max_length=200)


class ScheduledTaskUpdate(ScheduledTaskFields):
    """PUT /admin/scheduler/<id>: the fields to change."""


class LastExecution(BaseModel):
    status: str
    time: int | None = None
    duration: float | None = None
    error: str | None = None
    attempt: int | None = None


class ExecutionView(BaseModel):
    id: str
    taskId: str
    jobId: str | None
    status: Literal["running", "completed", "failed", "retry-scheduled", "skipped", "abandoned"]
    startTime: int
    duration: float | None
    error: str | None
    result: Any = None
    attempt: int
    occurrence: int | None = None
    lateness: float | None = None
    createdAt: int


class ScheduledTaskView(BaseModel):
    id: str
    key: str = Field(alias="_key", description="The same as id (the design note's document key)")
    name: str
    description: str
    handler: str
    params: dict[str, Any]
    schedule: str
    scheduleDescription: str
    scheduleType: Literal["now", "once", "interval", "recurring", "cron"]
    period: Literal["hourly", "daily", "weekly", "monthly"] | None
    timezone: str
    recurring: bool
    maxRetries: int
    retryDelay: int
    backoff: str | list[int]
    allowOverlap: bool
    source: Literal["api", "declared"]
    onSuccess: str | None
    maxInterval: int | None
    status: Literal["active", "paused", "running", "completed", "failed", "retry-scheduled"]
    nextRun: int | None
    nextRunAt: str | None
    lastExecution: LastExecution | None
    retryCount: int
    lastRetry: int | None
    lastRun: int | None
    createdAt: int
    updatedAt: int
    executions: list[ExecutionView]


class MissedTask(BaseModel):
    id: str
    name: str
    deadline: str
    lastSuccessAt: int | None


class SchedulerHealth(BaseModel):
    healthy: bool
    schedulingEnabled: bool
    leader: str | None
    missed: list[MissedTask]
    problems: list[str]


class DeadLetter(BaseModel):
    jobId: str
    taskId: str | None
    taskName: str | None
    failedAt: int
    error: str | None
