"""Idempotency-Key: a retried POST with the same key returns the first response, not a second effect.

The first request claims the key (SET NX) and, on success, stores its status and body for
``IDEMPOTENCY_TTL`` seconds. A retry with the same key and body replays that response; the same key with
another body is a 422; a retry while the first is still running is a 409. Failed (4xx/5xx) attempts
release the key so a corrected request can use it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import Response, request
from redis import Redis

from jobs import keys
from web.errors import ApiError

MAX_KEY_LENGTH = 200
IN_FLIGHT_TTL = 60  # seconds a claimed key blocks retries if the first request died mid-way


def with_idempotency(connection: Redis, principal: str, ttl: int, handle: Callable[[], Response]) -> Response:
    """Run ``handle`` at most once per (principal, Idempotency-Key header)."""
    key_value = request.headers.get("Idempotency-Key")
    if key_value is None:
        return handle()
    if not 1 <= len(key_value) <= MAX_KEY_LENGTH:
        raise ApiError(
            400, "invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters"
        )
    fingerprint = hashlib.sha256(request.get_data(cache=True)).hexdigest()
    redis_key = keys.idempotency(principal, hashlib.sha256(key_value.encode()).hexdigest())
    claim = json.dumps({"state": "in_flight", "fingerprint": fingerprint})
    if not connection.set(redis_key, claim, nx=True, ex=IN_FLIGHT_TTL):
        stored = connection.get(redis_key)
        if stored is None:  # expired between our SET and GET: treat as a fresh request
            return with_idempotency(connection, principal, ttl, handle)
        record = json.loads(stored)
        if record["fingerprint"] != fingerprint:
            raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with another body")
        if record["state"] == "in_flight":
            raise ApiError(409, "idempotency_in_flight", "a request with this Idempotency-Key is in progress")
        replay = Response(record["body"], status=record["status"], mimetype="application/json")
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    try:
        response = handle()
    except BaseException:
        connection.delete(redis_key)
        raise
    if 200 <= response.status_code < 300:
        done = {"state": "done", "fingerprint": fingerprint, "status": response.status_code,
                "body": response.get_data(as_text=True)}  # fmt: skip
        connection.set(redis_key, json.dumps(done), ex=ttl)
    else:
        connection.delete(redis_key)
    return response
