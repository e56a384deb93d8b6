"""Stored XSS, tried in real headless Chromium against the real web, worker and scheduler processes.

Jobs carry script payloads in their arguments (a plain RQ job, whose description is its call string),
metadata, result, exception text and (while one runs) the worker's call string; a scheduled task
fails with one in its error. Every rq-dashboard page
and every page of ours that shows that data is opened as an admin: the payload must show up as text
(so the page really rendered it) and no payload script may run. The Content-Security-Policy must not
block anything either: a violation would mean a page depends on something the policy forbids, or
that injected markup got as far as trying to run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from redis import Redis
from rq import Queue
from rq.job import Job

from tests.conftest import ADMIN_TOKEN
from tests.e2e.test_browser import platform
from tests.tools import launch_chromium
from tests.waiting import wait_for

__all__ = ["platform"]  # the fixture: web + worker + scheduler on the test Redis

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def payload(tag: str) -> str:
    """A visible marker (first: RQ shortens long call strings), then markup that records ``tag`` in
    ``window.__xss`` if any part of it runs."""
    run = f"(window.__xss=window.__xss||[]).push(`{tag}`)"
    return (
        f'XSS-{tag} <img src=x onerror="{run}"><script>{run}</script>'
        f'<svg onload="{run}"></svg><a href="javascript:{run}">x</a>'
    )


def _job(base: str, task: str, **kwargs: Any) -> dict[str, Any]:
    response = requests.post(
        f"{base}/api/v1/jobs", json={"task": task, "kwargs": kwargs}, headers=AUTH, timeout=5
    )
    assert response.status_code in (201, 202), response.text
    body: dict[str, Any] = response.json()
    return body


def _status(base: str, job_id: str) -> str:
    status: str = requests.get(f"{base}/api/v1/jobs/{job_id}", headers=AUTH, timeout=5).json()["status"]
    return status


def _plant(base: str) -> dict[str, Any]:
    """The jobs and the scheduled task carrying payloads; returns their ids."""
    failed = _job(base, "tests.fail", message=payload("exc"))
    finished = _job(base, "system.echo", note=payload("result"))
    wait_for(lambda: _status(base, failed["id"]) == "failed", 30, "the failing job")
    wait_for(lambda: _status(base, finished["id"]) == "finished", 30, "the echo job")
    task = requests.post(
        f"{base}/admin/scheduler",
        json={"name": "xss-probe", "handler": "tests.fail", "schedule": "@every 1h", "status": "paused",
              "maxRetries": 0, "params": {"message": payload("sched")}, "description": payload("desc")},
        headers=AUTH, timeout=5,
    ).json()  # fmt: skip
    assert requests.post(f"{base}/admin/scheduler/{task['id']}/actions/run", headers=AUTH, timeout=5).ok

    def executed() -> bool:
        items = requests.get(
            f"{base}/admin/scheduler/{task['id']}/executions", headers=AUTH, timeout=5
        ).json()
        return any(e.get("status") == "failed" for e in items["items"])

    wait_for(executed, 30, "the scheduled task's failed execution")
    running = _job(base, "tests.record", key=payload("call"), sleep=20)
    wait_for(lambda: _status(base, running["id"]) == "started", 30, "the long job to start")
    return {"failed": failed, "finished": finished, "running": running, "task": task}


def _plain_rq_job(connection: Redis) -> Job:
    """A plain RQ job, scheduled a year ahead (nothing runs it): its description is the call string."""
    at = datetime.now(UTC) + timedelta(days=365)
    job = Queue("default", connection=connection).enqueue_at(at, "tests.fixtures.add", payload("args"), 1)
    job.meta["note"] = payload("meta")
    job.save_meta()
    return job


def test_no_payload_runs_on_any_page_that_shows_job_data(platform: str, connection: Redis) -> None:
    from playwright.sync_api import expect, sync_playwright

    planted = _plant(platform)
    plain = _plain_rq_job(connection)
    queue = planted["failed"].get("queue") or "default"
    rq = "/admin/queues/0/view"
    pages: list[tuple[str, tuple[str, ...]]] = [
        (f"{rq}/job/{planted['failed']['id']}", ("exc",)),
        (f"{rq}/job/{planted['finished']['id']}", ("result",)),
        (f"{rq}/job/{planted['running']['id']}", ()),
        (f"{rq}/job/{plain.id}", ("args", "meta")),
        (f"{rq}/jobs/{queue}/failed/8/asc/1", ("exc",)),
        (f"{rq}/jobs/{queue}/finished/8/asc/1", ()),
        (f"{rq}/jobs/{queue}/started/8/asc/1", ()),
        (f"{rq}/jobs/default/scheduled/8/asc/1", ("args",)),
        (f"{rq}/workers", ("call",)),
        ("/admin/queues/", ()),
        ("/dashboard/", ()),
        ("/dashboard/dead-letters", ("exc",)),
        ("/dashboard/jobs", ()),
        (f"/dashboard/jobs/{planted['failed']['id']}", ("exc",)),
        (f"/dashboard/jobs/{planted['finished']['id']}", ("result",)),
        (f"/dashboard/jobs/{planted['running']['id']}", ("call",)),
        (f"/dashboard/jobs/{plain.id}", ("args", "meta")),
        ("/dashboard/health", ()),
        ("/dashboard/schedules", ()),
        (f"/dashboard/schedules/{planted['task']['id']}", ("sched",)),
    ]
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            violations: list[str] = []
            page.on(
                "console",
                lambda message: (
                    violations.append(message.text) if "Content Security Policy" in message.text else None
                ),
            )
            page.goto(platform + "/login")
            page.fill("input[name=token]", ADMIN_TOKEN)
            page.click("button[type=submit]")
            expect(page).to_have_url(platform + "/dashboard/")
            for path, tags in pages:
                page.goto(platform + path)
                for tag in tags:
                    expect(page.locator("body")).to_contain_text(f"XSS-{tag}")  # rendered, as text
                page.wait_for_load_state("load")
                ran = page.evaluate("window.__xss || []")
                assert ran == [], f"{path}: payload script ran: {ran}"
                assert violations == [], f"{path}: CSP violations: {violations}"
        finally:
            browser.close()
