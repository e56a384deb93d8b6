"""The overview (queues and jobs at a glance) and the health page."""

from __future__ import annotations

from flask import Blueprint, Response

from web.extension import state
from web.pages import render
from web.read_model import status
from web.read_model.breakers import breakers
from web.read_model.liveness import (
    health,
    health_verdict,
    missed_schedules,
    scheduler_reports,
    worker_heartbeats,
    worker_reports,
)
from web.read_model.queries import queue_listing


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
        report=health_verdict(ext.connection, ext.settings, now),
        rates=throughput,
        hour_chart=status.chart(throughput["hour"]),
        day_chart=status.chart(throughput["day"]),
        failures=status.failures_by_task(ext.connection, ext.settings.worker.queues),
    )


def health_page() -> Response:
    ext = state()
    now = ext.now()
    report = health(ext.connection, ext.settings, now)
    return render(
        "health.html",
        "_health_figures.html",
        report=report,
        workers=worker_reports(ext.connection, ext.settings, now),
        schedulers=scheduler_reports(ext.connection, ext.settings, now),
        missed=missed_schedules(ext.connection, now),
        breakers=[decision.view() for decision in breakers(ext.connection, ext.settings)],
        now=now,
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/", "overview", overview, methods=["GET"])
    bp.add_url_rule("/health", "health", health_page, methods=["GET"])
