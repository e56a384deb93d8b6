"""The overview (queues and jobs at a glance) and the health page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response
from redis.exceptions import ResponseError

from jobs.resilience.breaker import all_breakers
from web.errors import is_out_of_memory
from web.extension import Taskyard, state
from web.pages import render
from web.read_model import status
from web.read_model.queries import (
    health,
    is_alive,
    missed_schedules,
    queue_listing,
    scheduler_heartbeats,
    worker_heartbeats,
)


def _verdict(ext: Taskyard, now: datetime) -> dict[str, Any]:
    """The health verdict; a Redis that refuses INFO (fakeredis, some managed services) leaves it unknown
    instead of failing the whole overview."""
    try:
        return health(ext.connection, ext.settings, now)
    except ResponseError as error:
        if is_out_of_memory(error):
            raise
        return {"status": "unknown", "problems": [f"health unknown: Redis refused INFO ({error})"]}


def overview() -> Response:
    """Is everything OK? The health verdict, queue latency, busy workers, rates and recent failures."""
    ext = state()
    now = ext.now()
    queues = queue_listing(ext.connection, ext.settings)
    totals = {
        key: sum(q[key] for q in queues)
        for key in ("queued", "started", "finished", "failed", "deferred", "scheduled")
    }
    names = tuple(q["name"] for q in queues)
    latency = {row["name"]: row for row in status.queue_latency(ext.connection, names, now)}
    throughput = status.rates(ext.connection, now)
    return render(
        "overview.html",
        "_overview_figures.html",
        queues=queues,
        totals=totals,
        latency=latency,
        workers=len(worker_heartbeats(ext.connection)),
        busy=status.busy_workers(ext.connection, now),
        report=_verdict(ext, now),
        rates=throughput,
        hour_chart=status.chart(throughput["hour"]),
        day_chart=status.chart(throughput["day"]),
        failures=status.failures_by_task(ext.connection, ext.settings.worker.queues),
    )


def health_page() -> Response:
    ext = state()
    now = ext.now()
    report = health(ext.connection, ext.settings, now)
    schedulers = []
    for beat in scheduler_heartbeats(ext.connection):
        beat["age"] = round(now.timestamp() - float(beat["at"]), 1)
        beat["alive"] = is_alive(beat["at"], now, ext.settings)
        schedulers.append(beat)
    workers = []
    for worker in worker_heartbeats(ext.connection):
        worker["alive"] = is_alive(worker["last_heartbeat"], now, ext.settings)
        workers.append(worker)
    return render(
        "health.html",
        "_health_figures.html",
        report=report,
        workers=workers,
        schedulers=schedulers,
        missed=missed_schedules(ext.connection, now),
        breakers=[decision.view() for decision in all_breakers(ext.connection, ext.settings)],
        now=now,
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/", "overview", overview, methods=["GET"])
    bp.add_url_rule("/health", "health", health_page, methods=["GET"])
