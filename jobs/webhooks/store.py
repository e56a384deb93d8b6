"""Webhook endpoints and deliveries in Redis (keys in :mod:`jobs.keys`), and their audit trail.

An **endpoint** is a URL with a signing secret (Fernet-encrypted at rest, :mod:`jobs.crypto`), the
event types it subscribes to (``"*"`` = all) and an ``active`` flag. A **delivery** is one event for
one endpoint: the exact body to send, its status, and a log of every attempt (time, status code,
latency, error). Statuses: ``pending`` (first attempt queued) → ``delivered``, or ``retrying`` (next
attempt at ``next_attempt_at``) → ... → ``failed`` (retries used up: the dead-letter list, replayable).
Deliveries are indexed by creation time, endpoint and status for paginated, filtered listing.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from redis import Redis
from rq.utils import as_text

from jobs import keys
from jobs.crypto import Cipher

STATUSES = ("pending", "retrying", "delivered", "failed")
# Event types published under a new name whose subscribers of the older name still receive them:
# the design notes call an integration's lost access ``access_revoked``; Taskyard first named it so.
EVENT_ALIASES: dict[str, tuple[str, ...]] = {"access_revoked": ("integration.revoked",)}
FINISHED = ("delivered", "failed")
MAX_ATTEMPT_LOG = 200  # attempts kept per delivery (a replayed delivery keeps logging)


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    events: list[str]
    active: bool
    description: str
    created_at: str
    updated_at: str
    secret_encrypted: str

    def subscribes_to(self, event_type: str) -> bool:
        return self.active and ("*" in self.events or event_type in self.events)


@dataclass(frozen=True)
class Delivery:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    url: str
    body: str
    status: str
    created_at: float
    updated_at: float
    attempts: int = 0
    schedule_offset: int = 0  # attempts made before the current retry cycle (a manual replay restarts it)
    next_attempt_at: float | None = None
    job_id: str | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: float | None = None
    replays: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def payload(self) -> Any:
        """The event's payload, out of the exact body sent."""
        return json.loads(self.body).get("payload")


def _ids(raw: Any) -> list[str]:
    return [as_text(i) for i in raw]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class WebhookStore:
    """Reads and writes endpoints and deliveries; callers serialize changes to one delivery with
    :meth:`lock` (the delivery job and the API's replay both take it)."""

    def __init__(self, connection: Redis) -> None:
        self.connection = connection

    # --- endpoints ------------------------------------------------------------------------------
    def save_endpoint(self, endpoint: Endpoint) -> Endpoint:
        self.connection.hset(keys.WEBHOOK_ENDPOINTS, endpoint.id, json.dumps(asdict(endpoint)))
        return endpoint

    def create_endpoint(
        self,
        url: str,
        secret: str,
        events: list[str],
        active: bool,
        description: str,
        cipher: Cipher,
        now: str,
    ) -> Endpoint:
        endpoint = Endpoint(
            new_id("wh"), url, sorted(set(events)), active, description, now, now, cipher.encrypt(secret)
        )
        return self.save_endpoint(endpoint)

    def get_endpoint(self, endpoint_id: str) -> Endpoint | None:
        raw = self.connection.hget(keys.WEBHOOK_ENDPOINTS, endpoint_id)
        return Endpoint(**json.loads(raw)) if raw else None

    def endpoints(self) -> list[Endpoint]:
        found = [Endpoint(**json.loads(raw)) for raw in self.connection.hvals(keys.WEBHOOK_ENDPOINTS)]
        return sorted(found, key=lambda e: (e.created_at, e.id))

    def delete_endpoint(self, endpoint_id: str) -> bool:
        """Remove the endpoint; its deliveries stay (their audit trail) until log cleanup."""
        return bool(self.connection.hdel(keys.WEBHOOK_ENDPOINTS, endpoint_id))

    def subscribers(self, event_type: str) -> list[Endpoint]:
        """Active endpoints subscribed to ``event_type`` or to one of its older names (each once)."""
        names = (event_type, *EVENT_ALIASES.get(event_type, ()))
        return [e for e in self.endpoints() if any(e.subscribes_to(name) for name in names)]

    # --- deliveries -----------------------------------------------------------------------------
    def lock(self, delivery_id: str, timeout: float, wait: float) -> Any:
        """A Redis lock on one delivery (redis-py's owner-checked ``Lock``)."""
        return self.connection.lock(keys.webhook_lock(delivery_id), timeout=timeout, blocking_timeout=wait)

    def create_delivery(
        self, endpoint: Endpoint, event_id: str, event_type: str, body: str, now: float
    ) -> Delivery:
        delivery = Delivery(new_id("whd"), endpoint.id, event_id, event_type, endpoint.url, body, "pending",
                            now, now, next_attempt_at=now)  # fmt: skip
        score = int(now * 1000)
        with self.connection.pipeline() as pipe:
            pipe.set(keys.webhook_delivery(delivery.id), json.dumps(asdict(delivery)))
            pipe.zadd(keys.WEBHOOK_DELIVERIES, {delivery.id: score})
            pipe.zadd(keys.webhook_by_endpoint(endpoint.id), {delivery.id: score})
            pipe.zadd(keys.webhook_by_status("pending"), {delivery.id: score})
            pipe.zadd(keys.WEBHOOK_RETRY_DUE, {delivery.id: now})
            pipe.execute()
        return delivery

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        raw = self.connection.get(keys.webhook_delivery(delivery_id))
        return Delivery(**json.loads(raw)) if raw else None

    def save_delivery(self, old: Delivery, **changes: Any) -> Delivery:
        """Write ``old`` with ``changes``, moving it between status indexes and the retry-due index."""
        new = replace(old, **changes)
        score = int(new.created_at * 1000)
        with self.connection.pipeline() as pipe:
            pipe.set(keys.webhook_delivery(new.id), json.dumps(asdict(new)))
            if new.status != old.status:
                pipe.zrem(keys.webhook_by_status(old.status), new.id)
                pipe.zadd(keys.webhook_by_status(new.status), {new.id: score})
            if new.status in FINISHED or new.next_attempt_at is None:
                pipe.zrem(keys.WEBHOOK_RETRY_DUE, new.id)
            else:
                pipe.zadd(keys.WEBHOOK_RETRY_DUE, {new.id: new.next_attempt_at})
            pipe.execute()
        return new

    def log_attempt(self, delivery_id: str, entry: dict[str, Any]) -> None:
        key = keys.webhook_attempts(delivery_id)
        with self.connection.pipeline() as pipe:
            pipe.rpush(key, json.dumps(entry))
            pipe.ltrim(key, -MAX_ATTEMPT_LOG, -1)
            pipe.execute()

    def attempt_log(self, delivery_id: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.connection.lrange(keys.webhook_attempts(delivery_id), 0, -1)]

    def list_deliveries(
        self, endpoint_id: str | None, status: str | None, page: int, per_page: int
    ) -> tuple[list[Delivery], int]:
        """One page of deliveries, newest first, filtered by endpoint and/or status; and the total."""
        filters = [keys.webhook_by_endpoint(endpoint_id)] if endpoint_id else []
        if status:
            filters.append(keys.webhook_by_status(status))
        start, stop = (page - 1) * per_page, page * per_page - 1
        with self.connection.pipeline() as pipe:
            if len(filters) == 2:
                source = keys.WEBHOOK_QUERY.format(token=uuid.uuid4().hex)
                pipe.zinterstore(source, filters, aggregate="MAX")
                pipe.expire(source, 10)
            else:
                source = filters[0] if filters else keys.WEBHOOK_DELIVERIES
            pipe.zcard(source)
            pipe.zrevrange(source, start, stop)
            results = pipe.execute()
        total, ids = results[-2], [as_text(i) for i in results[-1]]
        raws = self.connection.mget([keys.webhook_delivery(i) for i in ids]) if ids else []
        return [Delivery(**json.loads(raw)) for raw in raws if raw], total

    def due_for_retry(self, now: float, limit: int = 1000) -> list[str]:
        """Ids of unfinished deliveries whose next attempt is due, oldest first."""
        return _ids(self.connection.zrangebyscore(keys.WEBHOOK_RETRY_DUE, "-inf", now, 0, limit))

    def created_before(self, cutoff: float, limit: int = 1000) -> list[str]:
        return _ids(
            self.connection.zrangebyscore(keys.WEBHOOK_DELIVERIES, "-inf", int(cutoff * 1000), 0, limit)
        )

    def delete_delivery(self, delivery: Delivery) -> None:
        with self.connection.pipeline() as pipe:
            pipe.delete(keys.webhook_delivery(delivery.id), keys.webhook_attempts(delivery.id))
            pipe.zrem(keys.WEBHOOK_DELIVERIES, delivery.id)
            pipe.zrem(keys.webhook_by_endpoint(delivery.endpoint_id), delivery.id)
            pipe.zrem(keys.webhook_by_status(delivery.status), delivery.id)
            pipe.zrem(keys.WEBHOOK_RETRY_DUE, delivery.id)
            pipe.execute()
