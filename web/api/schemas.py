"""Request and response bodies of /api/v1, as pydantic models: validation and the OpenAPI schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, model_validator

JOB_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"  # what RQ accepts as a job id
QUEUE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_DELAY = 366 * 24 * 3600  # a delayed job runs within a year or it is a cron schedule
PAST_TOLERANCE = timedelta(minutes=5)  # run_at this far in the past means "now"; more is a mistake


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class View(BaseModel):
    """A response model read off a store record: the fields it declares, from the record's attributes.

    What a record shows is said once, here: a field the record does not have (or a secret it keeps)
    is simply not declared, so it never reaches an answer."""

    @classmethod
    def of(cls, record: object, exclude: set[str] | None = None) -> dict[str, Any]:
        """``record`` as this view shows it, ready for ``jsonify`` (without the ``exclude`` fields)."""
        return cls.model_validate(record, from_attributes=True).model_dump(mode="json", exclude=exclude)


class JobCreate(Strict):
    """POST /api/v1/jobs."""

    task: str = Field(min_length=1, max_length=200, description="A registered task name, e.g. system.echo")
    args: list[JsonValue] = Field(default_factory=list, max_length=100)
    kwargs: dict[str, JsonValue] = Field(default_factory=dict, max_length=100)
    queue: str | None = Field(default=None, pattern=QUEUE_PATTERN)
    delay_seconds: float | None = Field(default=None, ge=0, le=MAX_DELAY)
    run_at: AwareDatetime | None = Field(default=None, description="ISO 8601 with an offset")
    job_id: str | None = Field(default=None, pattern=JOB_ID_PATTERN)
    at_front: bool = False
    timeout: int | None = Field(default=None, ge=1, le=24 * 3600)
    max_retries: int | None = Field(default=None, ge=0, le=25)
    depends_on: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Job ids this job waits for: it is deferred until they finish (RQ's depends_on)",
    )
    allow_failure: bool = Field(
        default=False, description="With depends_on: a dependency that failed for good counts as done"
    )

    @model_validator(mode="after")
    def _one_time(self) -> JobCreate:
        if self.delay_seconds is not None and self.run_at is not None:
            raise ValueError("give delay_seconds or run_at, not both")
        if self.run_at is not None:
            now = datetime.now(UTC)
            if self.run_at < now - PAST_TOLERANCE:
                raise ValueError("run_at is in the past")
            if self.run_at > now + timedelta(seconds=MAX_DELAY):
                raise ValueError("run_at is more than a year ahead")
        return self


class TokenCreate(Strict):
    """POST /api/v1/tokens."""

    name: str = Field(min_length=1, max_length=100)
    role: Literal["viewer", "admin"]
    expires_at: AwareDatetime | None = None


class Progress(BaseModel):
    model_config = ConfigDict(extra="allow")
    fraction: float
    message: str | None = None


class JobView(BaseModel):
    """A job as the API shows it."""

    id: str
    task: str | None
    queue: str
    status: str
    args: list[Any]
    kwargs: dict[str, Any]
    result: Any = None
    error: str | None = None
    attempts: int
    retries_left: int | None
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    scheduled_for: datetime | None = None
    progress: Progress | None = None
    url: str


class JobAccepted(BaseModel):
    """202 Accepted from an endpoint that enqueued a job: poll ``url`` (GET /api/v1/jobs/<id>)."""

    job_id: str
    url: str


class TaskView(BaseModel):
    name: str
    queue: str
    timeout: int
    max_retries: int
    retry_delays: list[int]
    description: str


class QueueView(BaseModel):
    name: str
    queued: int
    started: int
    finished: int
    failed: int
    deferred: int
    scheduled: int


class TokenView(View):
    id: str
    name: str
    role: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class TokenCreated(TokenView):
    token: str = Field(description="The secret; shown only in this response")


class ComponentHealth(BaseModel):
    ok: bool
    detail: str


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"]
    redis: ComponentHealth
    workers: list[dict[str, Any]]
    schedulers: list[dict[str, Any]]
    problems: list[str]


class HealthStatus(BaseModel):
    """What /healthz tells a caller without a token."""

    status: Literal["ok", "degraded", "down"]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class Error(BaseModel):
    error: ErrorBody


class Page(BaseModel):
    items: list[Any]
    total: int
