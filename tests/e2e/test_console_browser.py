"""The job console in real headless Chromium against the Procfile's processes (web, worker, scheduler):
every page fits a phone and a laptop and answers HTML to a navigation; a person finds why a job failed
and retries it; a viewer sees the same and can change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.conftest import ADMIN_TOKEN
from tests.e2e.test_browser import PAGES, platform  # noqa: F401  (platform is a fixture)
from tests.tools import launch_chromium
from tests.waiting import wait_for

pytestmark = [pytest.mark.slow]
VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})


def _api(base: str, method: str, path: str, token: str = ADMIN_TOKEN, **kw: Any) -> Any:
    response = requests.request(
        method, base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
    )
    assert response.status_code < 400, response.text
    return response.json()


def _wait_for_status(base: str, job_id: str, status: str) -> None:
    wait_for(
        lambda: _api(base, "GET", f"/api/v1/jobs/{job_id}")["status"] == status, 30, f"job {job_id} {status}"
    )


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        try:
            yield chromium
        finally:
            chromium.close()


def _login(browser: Any, base: str, token: str, viewport: dict[str, int] | None = None) -> Any:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=viewport or VIEWPORTS[0])
    page.set_default_timeout(20_000)
    page.goto(base + "/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    expect(page).to_have_url(base + "/dashboard/")
    page.on("dialog", lambda dialog: dialog.accept())  # destructive buttons ask first: say yes
    return page


def _viewer_token(base: str) -> str:
    return str(_api(base, "POST", "/api/v1/tokens", json={"name": "viewer", "role": "viewer"})["token"])


def test_every_page_fits_both_screens_and_answers_html(platform: str, browser: Any) -> None:  # noqa: F811
    failed = _api(
        platform, "POST", "/api/v1/jobs", json={"task": "tests.fail", "kwargs": {"message": "x" * 300}}
    )
    _wait_for_status(platform, failed["id"], "failed")
    pages = [
        *PAGES,
        "/dashboard/jobs",
        "/dashboard/jobs?status=failed",
        f"/dashboard/jobs/{failed['id']}",
        "/dashboard/jobs/no-such-job",  # 404
        "/dashboard/jobs?status=lost",  # 400
        "/dashboard/nowhere",  # 404 outside any page
        "/dashboard/schedules/new",
        "/dashboard/schedules/new?x=1",
        "/dashboard/webhooks/endpoints/new",
        "/dashboard/webhooks/deliveries/whd_0000000000000000",  # 404
    ]
    for viewport in VIEWPORTS:
        page = _login(browser, platform, ADMIN_TOKEN, viewport)
        for path in pages:
            response = page.goto(platform + path)
            assert response is not None
            assert response.headers["content-type"].startswith("text/html"), f"{path}: {response.headers}"
            page.wait_for_load_state("load")
            width = page.evaluate("document.documentElement.scrollWidth")
            inner = page.evaluate("window.innerWidth")
            assert width <= inner, f"{path} at {viewport['width']} px scrolls sideways ({width} > {inner})"
        page.close()


def _find_and_retry(page: Any, base: str, job_id: str, admin: bool) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/dashboard/")
    page.goto(base + "/dashboard/jobs")
    page.select_option("select[name=status]", "failed")
    page.fill("input[name=task]", "tests.fail")
    page.click("button:text('Search')")
    expect(page).to_have_url(
        f"{base}/dashboard/jobs?status=failed&queue=&task=tests.fail&scheduled_task=&id_prefix=&enqueued_after=&enqueued_before=&ended_after=&ended_before="
    )
    page.click(f'tr[data-job="{job_id}"] a')
    expect(page.locator('[data-field="error"]')).to_have_text("ValueError: <b>disk full</b>")
    expect(page.locator('[data-field="traceback"]')).to_contain_text("Traceback (most recent call last)")
    expect(page.locator('[data-field="kwargs"]')).to_contain_text('"message": "<b>disk full</b>"')
    expect(page.locator('tr[data-attempt="1"]')).to_contain_text("failed")
    if not admin:
        assert page.locator("main button").count() == 0
        return
    page.click("button:text('Retry')")
    expect(page.locator(".flash")).to_contain_text(f"job {job_id} is back on queue default")
    # the worker runs it again and it fails again: the page refreshes itself to show a second attempt
    expect(page.locator('tr[data-attempt="2"]')).to_be_visible(timeout=30_000)


def test_find_why_a_job_failed_and_retry_it(platform: str, browser: Any) -> None:  # noqa: F811
    job = _api(
        platform,
        "POST",
        "/api/v1/jobs",
        json={"task": "tests.fail", "kwargs": {"message": "<b>disk full</b>"}},
    )
    _wait_for_status(platform, job["id"], "failed")
    viewer = _login(browser, platform, _viewer_token(platform))
    _find_and_retry(viewer, platform, job["id"], admin=False)
    response = viewer.request.post(
        platform + f"/dashboard/jobs/{job['id']}/retry", headers={"Origin": platform}
    )
    assert response.status == 403
    assert _api(platform, "GET", f"/api/v1/jobs/{job['id']}")["status"] == "failed"
    admin = _login(browser, platform, ADMIN_TOKEN)
    _find_and_retry(admin, platform, job["id"], admin=True)


def test_overview_shows_queue_latency_busy_workers_and_throughput(platform: str, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    for as_viewer in (False, True):
        slow = _api(
            platform,
            "POST",
            "/api/v1/jobs",
            json={"task": "tests.record", "kwargs": {"key": f"k{as_viewer}", "sleep": 4}},
        )
        waiting = _api(platform, "POST", "/api/v1/jobs", json={"task": "tests.add", "args": [1, 2]})
        page = _login(browser, platform, _viewer_token(platform) if as_viewer else ADMIN_TOKEN)
        # the one worker runs the slow job; the other waits at the head of its queue
        expect(page.locator(f'tr[data-worker] a[href="/dashboard/jobs/{slow["id"]}"]')).to_be_visible()
        expect(page.locator("tr[data-worker]").first).to_contain_text("tests.record")
        expect(
            page.locator(f'tr[data-queue="default"] a[href="/dashboard/jobs/{waiting["id"]}"]')
        ).to_be_visible()
        _wait_for_status(platform, waiting["id"], "finished")
        # no reload: the figures refresh themselves
        expect(page.locator('tr[data-queue="default"] td[data-latency=""]')).to_be_visible(timeout=15_000)
        expect(page.locator('[data-figure="finished-hour"]')).not_to_have_text("0")
        expect(page.locator("svg rect.ok[height]:not([height='0.0'])").first).to_be_attached()
        assert page.locator("main button").count() == 0 or not as_viewer
        page.close()


def test_bulk_replay_the_dead_letters_of_one_task(platform: str, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    flood = [
        _api(platform, "POST", "/api/v1/jobs", json={"task": "tests.fail", "kwargs": {"message": f"m{i}"}})[
            "id"
        ]
        for i in range(3)
    ]
    calm = _api(platform, "POST", "/api/v1/jobs", json={"task": "tests.exit", "kwargs": {"code": 3}})["id"]
    for job_id in (*flood, calm):
        _wait_for_status(platform, job_id, "failed")
    viewer = _login(browser, platform, _viewer_token(platform))
    viewer.goto(platform + "/dashboard/dead-letters")
    expect(viewer.locator('tr[data-group-task="tests.fail"] td[data-count]')).to_have_text("3")
    assert viewer.locator("main form[method=post]").count() == 0  # only the (GET) filter form
    admin = _login(browser, platform, ADMIN_TOKEN)
    admin.goto(platform + "/dashboard/dead-letters?task=tests.fail")
    expect(admin.locator("tr[data-group-task]")).to_have_count(1)
    admin.check('tr[data-group-task="tests.fail"] input[type=checkbox]')
    admin.click("button:text('Replay ticked groups')")
    expect(admin.locator(".flash")).to_contain_text("replayed 3 jobs")
    # they run again (and fail again): their pages show a second attempt
    admin.goto(platform + f"/dashboard/jobs/{flood[0]}")
    expect(admin.locator('tr[data-attempt="2"]')).to_be_visible(timeout=30_000)
    assert _api(platform, "GET", f"/api/v1/jobs/{calm}")["status"] == "failed"  # the other task untouched


def test_schedule_with_a_bad_cron_then_a_good_one_see_next_runs_watch_it_run_pause(
    platform: str,  # noqa: F811
    browser: Any,
) -> None:
    from playwright.sync_api import expect

    viewer = _login(browser, platform, _viewer_token(platform))
    viewer.goto(platform + "/dashboard/schedules")
    expect(viewer.locator("text=New scheduled task")).to_have_count(0)
    refused = viewer.goto(platform + "/dashboard/schedules/new")
    assert refused is not None and refused.status == 403
    expect(viewer.locator(".error-page")).to_contain_text("viewer")

    page = _login(browser, platform, ADMIN_TOKEN)
    page.goto(platform + "/dashboard/schedules")
    page.click("text=New scheduled task")
    page.fill("input[name=name]", "console-every-second")
    page.select_option("select[name=handler]", "system.echo")
    expect(page.locator("[data-handler-help]")).not_to_be_empty()
    page.fill("input[name=schedule]", "61 * * * *")
    expect(page.locator("[data-preview-error]")).to_be_visible()  # said while typing
    page.click("button:text('Save')")
    expect(page.locator('[data-error-for="schedule"]')).to_contain_text("schedule")  # under the field
    expect(page.locator("input[name=schedule]")).to_have_value("61 * * * *")
    page.fill("input[name=schedule]", "*/1 * * * * *")
    expect(page.locator("[data-next-run]")).to_have_count(5)
    page.click("button:text('Save')")
    expect(page.locator("h1")).to_have_text("console-every-second")
    expect(page.locator('[data-execution-status="completed"]').first).to_be_visible(timeout=30_000)
    page.click('button[data-action="pause"]')
    expect(page.locator('[data-field="status"]')).to_have_text("paused")
    expect(page.locator('button[data-action="pause"]')).to_have_count(0)
    expect(page.locator('button[data-action="resume"]')).to_be_visible()
    viewer.goto(platform + "/dashboard/schedules?status=paused")
    expect(viewer.locator('tr[data-task="console-every-second"]')).to_be_visible()
    assert viewer.locator("main form[method=post]").count() == 0
