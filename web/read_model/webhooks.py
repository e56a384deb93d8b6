"""Webhook endpoints and deliveries as the REST API and the pages read them.

The one place ``web/`` reads :class:`jobs.webhooks.store.WebhookStore`: an id that could not be an
endpoint's or a delivery's is a 404 without a Redis round trip, and a missing one is the same 404, so
``/api/v1/webhooks`` and the webhook pages answer alike. Changes go through :mod:`web.commands.webhooks`.
"""

from __future__ import annotations

import re
from typing import Any

from redis import Redis

from jobs.webhooks.store import STATUSES as STATUSES  # the delivery statuses, for filters and forms
from jobs.webhooks.store import Delivery as Delivery
from jobs.webhooks.store import Endpoint as Endpoint
from jobs.webhooks.store import WebhookStore
from web.errors import ApiError

ID_PATTERN = re.compile(r"^[a-z]{2,4}_[0-9a-f]{16}$")


def endpoints(connection: Redis) -> list[Endpoint]:
    """Every endpoint, oldest first."""
    return WebhookStore(connection).endpoints()


def endpoint(connection: Redis, endpoint_id: str) -> Endpoint:
    """The endpoint, or a 404 ApiError."""
    found = WebhookStore(connection).get_endpoint(endpoint_id) if ID_PATTERN.match(endpoint_id) else None
    if found is None:
        raise ApiError(404, "endpoint_not_found", f"no webhook endpoint {endpoint_id!r}")
    return found


def delivery(connection: Redis, delivery_id: str) -> Delivery:
    """The delivery, or a 404 ApiError."""
    found = WebhookStore(connection).get_delivery(delivery_id) if ID_PATTERN.match(delivery_id) else None
    if found is None:
        raise ApiError(404, "delivery_not_found", f"no webhook delivery {delivery_id!r}")
    return found


def failed_delivery(connection: Redis, delivery_id: str) -> Delivery | None:
    """The delivery when it is a dead letter (``failed``), else None (also for ids that are no ids)."""
    found = WebhookStore(connection).get_delivery(delivery_id) if len(delivery_id) <= 64 else None
    return found if found is not None and found.status == "failed" else None


def deliveries(
    connection: Redis, endpoint_id: str | None, status: str | None, page: int, per_page: int
) -> tuple[list[Delivery], int]:
    """One page of deliveries, newest first, optionally of one endpoint and/or status; and the total."""
    return WebhookStore(connection).list_deliveries(endpoint_id, status, page, per_page)


def attempt_log(connection: Redis, delivery_id: str) -> list[dict[str, Any]]:
    """Every attempt of the delivery, oldest first (status, response, error, duration)."""
    return WebhookStore(connection).attempt_log(delivery_id)
