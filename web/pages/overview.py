"""The overview (queues and jobs at a glance) and the health page."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response

from jobs.breaker import all_breakers
from web.extension import state
from web.pages import render
from web.queries import health, missed_schedules, queue_listing, scheduler_heartbeats, worker_heartbeats


def overview() -> Response:
    ext = state()
    queues = queue_listing(ext.connection, ext.settings)
    totals = {
        key: sum(q[key] for q in queues)
        for key in ("queued", "started", "finished", "failed", "deferred", "scheduled")
    }
    return render(
        "overview.html",
        "_overview_figures.html",
        queues=queues,
        totals=totals,
        workers=len(worker_heartbeats(ext.connection)),
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
