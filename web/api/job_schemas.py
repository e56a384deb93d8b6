"""Models of the job listing, batch and bulk-action endpoints (``/api/v1/jobs``, ``/jobs/batch``,
``/jobs/actions/*``): validation and their OpenAPI schemas, in one place for the three modules."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from web.api.openapi import query_param
from web.api.schemas import QUEUE_PATTERN, JobView, Strict
from web.errors import ApiError, validation_error
from web.read_model.job_search import MAX_LIMIT, STATUSES, JobFilter

Status = Literal["queued", "started", "scheduled", "deferred", "finished", "failed", "canceled"]
DEFAULT_LIMIT = 25
MAX_BATCH = 1000  # jobs in one POST /api/v1/jobs/batch
MAX_ACTION_IDS = 1000  # ids in one bulk action
ID_PREFIX = r"^[A-Za-z0-9_-]{1,128}$"
TASK_NAME = r"^[^\x00-\x1f]{1,200}$"
SCHEDULED_TASK = r"^[A-Za-z0-9_.:-]{1,128}$"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]")


class FilterFields(Strict):
    """The filters shared by the listing and the bulk actions."""

    model_config = ConfigDict(extra="forbid", strict=False)  # query strings arrive as text

    status: Status | None = None
    queue: str | None = Field(default=None, pattern=QUEUE_PATTERN)
    task: str | None = Field(default=None, pattern=TASK_NAME)
    scheduled_task: str | None = Field(default=None, pattern=SCHEDULED_TASK)
    id_prefix: str | None = Field(default=None, pattern=ID_PREFIX)
    enqueued_after: AwareDatetime | None = None
    enqueued_before: AwareDatetime | None = None
    ended_after: AwareDatetime | None = None
    ended_before: AwareDatetime | None = None

    @field_validator("enqueued_after", "enqueued_before", "ended_after", "ended_before", mode="before")
    @classmethod
    def _iso_only(cls, value: Any) -> Any:
        """ISO 8601 text only: pydantic would also read numbers (and numeric text) as epoch seconds."""
        if value is not None and (not isinstance(value, str) or not ISO_DATE.match(value)):
            raise ValueError("expected an ISO 8601 date and time with an offset, e.g. 2026-01-31T12:00:00Z")
        return value

    def to_filter(self, queues: tuple[str, ...], statuses: tuple[str, ...] = ()) -> JobFilter:
        return JobFilter(
            queues=(self.queue,) if self.queue else queues,
            statuses=(self.status,) if self.status else statuses,
            task=self.task,
            scheduled_task=self.scheduled_task,
            id_prefix=self.id_prefix,
            enqueued_after=self.enqueued_after,
            enqueued_before=self.enqueued_before,
            ended_after=self.ended_after,
            ended_before=self.ended_before,
        )


class JobListQuery(FilterFields):
    """GET /api/v1/jobs query string."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=20_000)


def parse_query(model: type[JobListQuery], args: dict[str, str]) -> JobListQuery:
    """The query string as ``model`` (empty values mean "not given"), or a 400 naming the bad field."""
    given = {k: v for k, v in args.items() if v != ""}
    try:
        return model.model_validate(given)
    except ValidationError as error:
        raise validation_error(error) from None


def check_queue(queue: str | None, queues: tuple[str, ...]) -> None:
    """A 400 for a queue this deployment has no workers for (the same answer as POST /api/v1/jobs)."""
    if queue is not None and queue not in queues:
        raise ApiError(400, "unknown_queue", f"no queue named {queue!r}; queues are {', '.join(queues)}")


class JobList(BaseModel):
    """A page of jobs, newest first. ``next_cursor`` is null on the last page."""

    items: list[JobView]
    next_cursor: str | None
    limit: int


class BatchCreate(Strict):
    """POST /api/v1/jobs/batch: up to 1,000 jobs. Items are checked one by one (see BatchResult)."""

    jobs: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="Each item is a POST /api/v1/jobs body (JobCreate), checked on its own",
    )


class BatchItemResult(BaseModel):
    index: int
    ok: bool
    job: JobView | None = None
    error: dict[str, Any] | None = None


class BatchResult(BaseModel):
    """Per item, by index: the job enqueued, or the error that kept it out. Valid items are enqueued
    even when others are refused."""

    enqueued: int
    failed: int
    items: list[BatchItemResult]


class JobAction(FilterFields):
    """POST /api/v1/jobs/actions/{requeue,delete}: the jobs named by ``ids``, or those matching the
    filters (failed jobs unless ``status`` says otherwise); ``dry_run`` only counts them."""

    model_config = ConfigDict(extra="forbid", strict=True)  # a JSON body: types as given

    ids: list[str] | None = Field(default=None, max_length=MAX_ACTION_IDS)
    dry_run: bool = False
    limit: int = Field(default=MAX_ACTION_IDS, ge=1, le=MAX_ACTION_IDS)


class JobActionResult(BaseModel):
    """``matched`` jobs were found; ``done`` were changed (0 on a dry run); ``errors`` says why others
    were not. ``more`` is true when the filter matched more than ``limit``: call again for the rest."""

    action: str
    dry_run: bool
    matched: int
    done: int
    ids: list[str]
    errors: list[dict[str, Any]]
    more: bool


def _or_empty(pattern: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^$|{pattern}"}


def filter_parameters() -> list[dict[str, Any]]:
    """The filter fields as OpenAPI query parameters (an empty value means "any", as in a form)."""
    when = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0}]}
    return [
        query_param("status", {"type": "string", "enum": [*STATUSES, ""]}, "Only jobs in this state"),
        query_param("queue", _or_empty(QUEUE_PATTERN), "Only this queue"),
        query_param("task", _or_empty(TASK_NAME), "Only jobs of this task"),
        query_param("scheduled_task", _or_empty(SCHEDULED_TASK), "Only runs of this scheduled task"),
        query_param("id_prefix", _or_empty(ID_PREFIX), "Job ids starting with this"),
        query_param("enqueued_after", when, "ISO 8601 with an offset"),
        query_param("enqueued_before", when, "ISO 8601 with an offset"),
        query_param("ended_after", when, "ISO 8601 with an offset"),
        query_param("ended_before", when, "ISO 8601 with an offset"),
    ]
