"""The overview (queues and jobs at a glance) and the health page."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response

from jobs.breaker import all_breakers
from web import status
from web.extension import state
from web.pages import render
from web.queries import health, missed_schedules, queue_listing, scheduler_heartbeats, worker_heartbeats


def overview() -> Response:
    """Is everything OK? The health verdict, queue latency, busy workers, rates and recent failures."""
    ext = state()
    now = datetime.now(UTC)
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
        report=health(ext.connection, ext.settings, now),
        rates=throughput,
        hour_chart=status.chart(throughput["hour"]),
        day_chart=status.chart(throughput["day"]),
        failures=status.failures_by_task(ext.connection, ext.settings.queues),
    )


def health_page() -> Response:
    ext = state()
    now = datetime.now(UTC)
    report = health(ext.connection, ext.settings, now)
    schedulers = []
    for beat in scheduler_heartbeats(ext.connection):
        beat["age"] = round(now.timestamp() - float(beat["at"]), 1)
        beat["alive"] = beat["age"] <= ext.settings.heartbeat_stale
        schedulers.append(beat)
    workers = []
    for worker in worker_heartbeats(ext.connection):
        last = worker["last_heartbeat"]
        worker["alive"] = bool(last and (now - last).total_seconds() <= ext.settings.heartbeat_stale)
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
