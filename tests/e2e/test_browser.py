"""The dashboard in real headless Chromium against real processes (web, worker, scheduler, Redis):
log in, create a scheduled task through the form, see it run (the page refreshes itself), pause it,
open rq-dashboard, log out, and be refused every page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobs.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.e2e.platform_support import running_platform
from tests.tools import launch_chromium

PAGES = (
    "/dashboard/",
    "/dashboard/schedules",
    "/dashboard/dead-letters",
    "/dashboard/health",
    "/dashboard/webhooks",
    "/dashboard/integrations",
    "/admin/queues/",
    "/admin/queues/0/view/workers",
)

pytestmark = pytest.mark.slow


@pytest.fixture
def platform(settings: Settings) -> Iterator[str]:
    """web + worker + scheduler on the test Redis; yields the web URL."""
    with running_platform(settings) as url:
        yield url


def test_login_schedule_pause_rq_dashboard_logout(platform: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(platform + "/dashboard/schedules")
            expect(page).to_have_url(f"{platform}/login?next=/dashboard/schedules")
            page.fill("input[name=token]", "not-the-token")
            page.click("button[type=submit]")
            expect(page.locator("p.error")).to_have_text("invalid, expired or revoked token")
            page.fill("input[name=token]", ADMIN_TOKEN)
            page.click("button[type=submit]")
            expect(page).to_have_url(platform + "/dashboard/schedules")

            page.click("text=New scheduled task")
            page.fill("input[name=name]", "browser-every-second")
            page.select_option("select[name=handler]", "system.echo")
            page.fill("input[name=schedule]", "*/1 * * * * *")
            page.fill("textarea[name=params]", '{"from": "browser"}')
            page.click("button:text('Save')")
            expect(page.locator("h1")).to_have_text("browser-every-second")
            detail_url = page.url
            # no reload from here: the execution appears through the page's own fragment refresh
            expect(page.locator('[data-execution-status="completed"]').first).to_be_visible(timeout=30_000)
            assert page.url == detail_url

            page.click('button[data-action="pause"]')
            expect(page.locator('dd[data-field="status"]')).to_have_text("paused")
            page.goto(platform + "/dashboard/schedules?status=paused")
            expect(page.locator('tr[data-task="browser-every-second"]')).to_be_visible()

            page.click("text=Queues (rq-dashboard)")
            expect(page).to_have_title("RQ dashboard")
            expect(page.locator("h1")).to_have_text("Queues")

            page.goto(platform + "/dashboard/")
            page.click("text=Log out")
            expect(page).to_have_url(platform + "/login")
            for path in PAGES:
                page.goto(platform + path)
                assert page.url.startswith(platform + "/login"), f"{path} was reachable after logout"
                expect(page.locator("input[name=token]")).to_be_visible()
        finally:
            browser.close()
