"""Health metrics as a time series in Redis: one sample every 5 minutes (the maintenance job), read
back by ``GET /api/v1/health/metrics``. A capped list, newest first (``HEALTH_SAMPLES`` kept)."""

from __future__ import annotations

import json
import time
from typing import Any

from redis import Redis
from rq import Queue

from jobs import keys
from jobs.settings import Settings


def sample(connection: Redis, settings: Settings, now: float | None = None) -> dict[str, Any]:
    """Redis memory, key count, throughput and clients, and the depth of every queue, right now."""
    info = connection.info()
    with connection.pipeline() as pipe:
        for name in settings.worker.queues:
            pipe.llen(Queue(name, connection=connection).key)
        depths = pipe.execute()
    return {
        "at": time.time() if now is None else now,
        "used_memory": info.get("used_memory"),
        "used_memory_peak": info.get("used_memory_peak"),
        "keys": connection.dbsize(),
        "ops_per_sec": info.get("instantaneous_ops_per_sec"),
        "total_commands_processed": info.get("total_commands_processed"),
        "connected_clients": info.get("connected_clients"),
        "queue_depths": dict(zip(settings.worker.queues, depths, strict=True)),
    }


def record(connection: Redis, settings: Settings, point: dict[str, Any]) -> None:
    with connection.pipeline() as pipe:
        pipe.lpush(keys.HEALTH_SAMPLES, json.dumps(point))
        pipe.ltrim(keys.HEALTH_SAMPLES, 0, settings.monitoring.health_samples - 1)
        pipe.execute()


def recent(connection: Redis, limit: int) -> list[dict[str, Any]]:
    """The latest ``limit`` samples, newest first."""
    return [json.loads(raw) for raw in connection.lrange(keys.HEALTH_SAMPLES, 0, limit - 1)]
