"""Alerts: rules over job failures and missed schedules, delivered once per window to configured sinks.

Rules (thresholds from settings):

* **failures**: ``ALERT_FAILURE_THRESHOLD`` failed attempts of one task (``failed`` or ``retrying``
  job events, e.g. "more than 10 failed") within a fixed window of ``ALERT_WINDOW`` seconds. Counted by
  a job-hook subscriber in the worker: one INCR per failure on a per-task, per-window counter.
* **missed schedule**: a recurring scheduled task past the deadline the scheduler expects its next
  success by. The scheduler leader detects these (``scheduler/health.py``) and hands them to
  :func:`alert_missed` every few seconds; ``jobs`` never reads the scheduler's keys itself.

Each alert fires **at most once per window**, not once per failure: :func:`fire_once` claims
``taskyard:alert:fired:<rule>:<subject>`` in one script that fires only when the last firing is at
least a window old; only the process that wins the claim enqueues the delivery, so a burst of failures
across many workers sends one alert, and a burst across a window boundary sends one too.

Sinks: ``ALERT_WEBHOOK_URL`` (Slack-compatible JSON: ``text`` plus one attachment of fields; works for
Slack/Mattermost incoming webhooks and any HTTP receiver), delivered by the ``alerts.deliver`` job, and
``ALERT_EMAIL_TO`` (one ``email.send`` job per address, through the SMTP relay). Both are jobs, so a
sink that is down is retried with backoff and never slows the worker that noticed the failures.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from redis import Redis

from jobs import keys
from jobs.enqueue import JobRequest, enqueue
from jobs.handler_context import job_settings
from jobs.hooks import JobEvent, on
from jobs.registry import task
from jobs.retry import RetryPolicy
from jobs.settings import Settings

log = logging.getLogger("taskyard.alerts")

RECENT_KEPT = 100  # alerts kept in taskyard:alert:recent for the pages
WEBHOOK_TIMEOUT = 10.0  # seconds one alert POST may take
DELIVER_TASK = "alerts.deliver"


@dataclass(frozen=True)
class Alert:
    """One alert: which rule, about what (a task name), a sentence, and facts as fields."""

    rule: str
    subject: str
    text: str
    window: int
    fields: dict[str, str] = field(default_factory=dict)


# KEYS[1] the claim; ARGV[1] now (epoch seconds), ARGV[2] the window in seconds. 1 when this call fires.
CLAIM_SCRIPT = """
local last = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[1])
if last and now - tonumber(last) < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', math.max(1, math.ceil(tonumber(ARGV[2]))))
return 1
"""


def fire_once(connection: Redis, settings: Settings, alert: Alert, now: float | None = None) -> bool:
    """Enqueue the delivery of ``alert`` unless it fired less than ``alert.window`` seconds before
    ``now``; True if it fires now.

    The claim is one key per (rule, subject) holding when the alert last fired, compared with the
    caller's clock in one script: any number of processes racing on it fire once, and two alerts are
    always at least a window apart (a claim per fixed window index let two fire seconds apart across
    a window boundary). The key's TTL only cleans up."""
    now = time.time() if now is None else now
    claim = keys.alert_fired(alert.rule, alert.subject)
    if not connection.register_script(CLAIM_SCRIPT)(keys=[claim], args=[repr(now), alert.window]):
        return False
    record = {**asdict(alert), "at": now}
    with connection.pipeline() as pipe:
        pipe.lpush(keys.ALERT_RECENT, json.dumps(record))
        pipe.ltrim(keys.ALERT_RECENT, 0, RECENT_KEPT - 1)
        pipe.execute()
    log.warning("alert %s/%s: %s", alert.rule, alert.subject, alert.text)
    if settings.alerts.webhook_url:
        enqueue(connection, settings, JobRequest(DELIVER_TASK, kwargs={"alert": asdict(alert)}))
    body = alert.text + "\n\n" + "\n".join(f"{k}: {v}" for k, v in alert.fields.items())
    for address in settings.alerts.email_to:
        email = {"to": address, "subject": alert.text[:200], "body": body}
        enqueue(connection, settings, JobRequest("email.send", kwargs=email))
    return True


def count_failure(connection: Redis, settings: Settings, task_name: str, now: float | None = None) -> bool:
    """Count one failure of ``task_name``; fire the failures alert when the window's count reaches the
    threshold. True if this call fired it."""
    now = time.time() if now is None else now
    window = settings.alerts.window
    counter = keys.alert_failures(task_name, int(now // window))
    with connection.pipeline() as pipe:
        pipe.incr(counter)
        pipe.expire(counter, window * 2)
        failures, _ = pipe.execute()
    if failures < settings.alerts.failure_threshold:
        return False
    alert = Alert(
        rule="failures",
        subject=task_name,
        text=f"Taskyard: task {task_name} failed {failures} times within {window} s",
        window=window,
        fields={
            "task": task_name,
            "threshold": str(settings.alerts.failure_threshold),
            "window": f"{window} s",
        },
    )
    return fire_once(connection, settings, alert, now)


@on("failed", "retrying")
def alert_on_failures(event: JobEvent) -> None:
    """Hook subscriber (runs in the worker)."""
    if event.task == DELIVER_TASK:
        return  # an alert about failing alert deliveries would only feed itself
    count_failure(event.job.connection, job_settings(), event.task)


def alert_missed(
    connection: Redis, settings: Settings, missed: Iterable[tuple[str, str, float]], now: float | None = None
) -> list[str]:
    """Fire one alert per window for each (task id, task name, deadline) the scheduler found missed;
    return the names alerted now."""
    now = time.time() if now is None else now
    fired = []
    for task_id, name, deadline in missed:
        overdue = int(now - deadline)
        alert = Alert(
            rule="missed_schedule",
            subject=task_id,
            text=f"Taskyard: scheduled task {name} missed its schedule ({overdue} s past its deadline)",
            window=settings.alerts.window,
            fields={"task": name, "id": task_id, "overdue": f"{overdue} s"},
        )
        if fire_once(connection, settings, alert, now):
            fired.append(name)
    return fired


def slack_payload(alert: Alert) -> dict[str, Any]:
    """Slack-compatible incoming-webhook JSON."""
    return {
        "text": alert.text,
        "attachments": [
            {
                "color": "danger",
                "fallback": alert.text,
                "fields": [{"title": k, "value": v, "short": True} for k, v in alert.fields.items()],
            }
        ],
    }


@task(
    DELIVER_TASK,
    queue="high",
    retry=RetryPolicy(max_retries=5, backoff="exponential", delay=10, jitter=0.1),
    timeout=60,
    description="Send one alert to ALERT_WEBHOOK_URL as Slack-compatible JSON.",
)
def deliver(alert: dict[str, Any]) -> dict[str, Any]:
    """POST the alert to the webhook sink; raise (and so retry) when it answers with an error. (Email
    alerts are ``email.send`` jobs of their own, so a webhook retry never sends an email twice.)"""
    url = job_settings().alerts.webhook_url
    if not url:
        return {"webhook": None}
    response = requests.post(
        url, json=slack_payload(Alert(**alert)), timeout=WEBHOOK_TIMEOUT, allow_redirects=False
    )
    response.raise_for_status()
    return {"webhook": response.status_code}
