"""Monitoring and alerts: who reads /metrics, how much health history is kept, where alerts go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from jobs.settings.declare import setting
from jobs.settings.readers import HTTP_URL, NETWORKS, names, token, whole


@dataclass(frozen=True)
class MonitoringSettings:
    """/metrics access and the health-metric history (web/monitoring/, jobs/maintenance/)."""

    TITLE: ClassVar[str] = "Monitoring"

    metrics_token: str | None = setting(
        "METRICS_TOKEN", None, token(16), "an extra bearer token (16+ characters) that reads /metrics only"
    )
    metrics_allow_ips: tuple[str, ...] = setting(
        "METRICS_ALLOW_IPS", (), NETWORKS, "clients that may read /metrics without a token"
    )
    health_samples: int = setting(
        "HEALTH_SAMPLES", 2016, whole(minimum=1), "health-metric samples kept (a week at one per 5 minutes)"
    )


@dataclass(frozen=True)
class AlertSettings:
    """Failure alerts (jobs/maintenance/alerts.py)."""

    TITLE: ClassVar[str] = "Alerts"

    webhook_url: str | None = setting(
        "ALERT_WEBHOOK_URL", None, HTTP_URL, "Slack-compatible incoming webhook that receives alerts"
    )
    email_to: tuple[str, ...] = setting(
        "ALERT_EMAIL_TO", (), names(), "addresses alerts are emailed to (through email.send)"
    )
    failure_threshold: int = setting(
        "ALERT_FAILURE_THRESHOLD",
        10,
        whole(minimum=1),
        "failures of one task within ALERT_WINDOW that raise an alert",
    )
    window: int = setting(
        "ALERT_WINDOW",
        300,
        whole(minimum=1),
        "seconds of an alert window; each alert fires at most once per window",
    )
