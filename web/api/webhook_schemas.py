"""Request and response models of /api/v1/webhooks and /api/v1/events (the routes that use them are
declared in :mod:`web.api.webhooks`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, JsonValue, field_validator

from jobs.webhooks import standard_signatures as standard_webhooks
from web.api.schemas import JobAccepted, Strict, View
from web.api.times import ApiTime

EVENT_TYPE = r"^[A-Za-z0-9_.:-]{1,100}$"
MAX_PER_PAGE = 100  # largest page one request may ask for


def _check_secret(value: str | None) -> str | None:
    """A ``whsec_`` secret must be the Standard Webhooks format (base64 after the prefix)."""
    if value is not None and standard_webhooks.is_standard(value):
        standard_webhooks.signing_key(value)  # ValueError -> a 400 naming the field
    return value


class EndpointCreate(Strict):
    """POST /api/v1/webhooks/endpoints. ``events``: event types, or ``["*"]`` for all."""

    url: str = Field(min_length=8, max_length=2048)
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=256,
        description="HMAC key; stored encrypted, returned only in the 201 of a registration that omits it "
        "(then generated as a Standard Webhooks whsec_ secret)",
    )
    events: list[str] = Field(min_length=1, max_length=100)
    active: bool = True
    description: str = Field(default="", max_length=500)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return _check_secret(value)


class EndpointUpdate(Strict):
    """PATCH /api/v1/webhooks/endpoints/<id>: any subset of the fields."""

    url: str | None = Field(default=None, min_length=8, max_length=2048)
    secret: str | None = Field(default=None, min_length=16, max_length=256)
    events: list[str] | None = Field(default=None, min_length=1, max_length=100)
    active: bool | None = None
    description: str | None = Field(default=None, max_length=500)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return _check_secret(value)


class EndpointView(View):  # what the API and the pages show of an endpoint: never its secret
    id: str
    url: str
    events: list[str]
    active: bool
    description: str
    created_at: str
    updated_at: str


class EndpointCreated(EndpointView):
    """The 201 of a registration: the endpoint, plus the generated secret when none was given."""

    secret: str | None = Field(
        default=None, description="Only when the registration omitted it: the generated whsec_ secret"
    )


class EventCreate(Strict):
    """POST /api/v1/events."""

    type: str = Field(pattern=EVENT_TYPE)
    payload: JsonValue = None


class DeliveryView(View):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    url: str
    status: str
    attempts: int
    created_at: ApiTime
    updated_at: ApiTime
    next_attempt_at: ApiTime | None
    job_id: str | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: ApiTime | None
    replays: int
    payload: Any = None
    attempt_log: list[dict[str, Any]] | None = None


class EventAccepted(BaseModel):
    event_id: str
    type: str
    deliveries: list[DeliveryView]


class SweepQueued(JobAccepted):
    pass  # its own name in the OpenAPI document
