"""The webhook and integration stories in real headless Chromium against the Procfile's processes,
with outbound calls to servers on 127.0.0.1 started here: register an endpoint in the form, find its
failed delivery, read the attempts, replay it; refresh an integration now. Viewers see the same pages
and no buttons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from jobs.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.e2e.platform_support import running_platform
from tests.e2e.test_console_browser import _api, _login, _viewer_token, browser  # noqa: F401
from tests.receivers import Received, serve

pytestmark = [pytest.mark.slow]


@pytest.fixture
def outbound_platform(settings: Settings) -> Iterator[str]:
    """web + worker + scheduler allowed to call 127.0.0.1, with webhook retries at once (3 attempts)."""
    with running_platform(
        settings, WEBHOOK_ALLOW_PRIVATE_TARGETS="true", WEBHOOK_RETRY_SCHEDULE="0,0"
    ) as url:
        yield url


def test_find_a_failed_delivery_read_its_attempts_replay_it(outbound_platform: str, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base = outbound_platform
    up = {"yes": False}
    with serve(lambda request, n: (200, None) if up["yes"] else (503, None)) as receiver:
        admin = _login(browser, base, ADMIN_TOKEN)
        admin.goto(base + "/dashboard/webhooks")
        admin.click("text=New endpoint")
        admin.fill("input[name=url]", "ftp://nowhere")
        admin.click("button:text('Save')")
        expect(admin.locator('[data-error-for="url"]')).to_be_visible()
        admin.fill("input[name=url]", receiver.url + "/hook")
        admin.fill("input[name=events]", "order.created")
        admin.click("button:text('Save')")
        expect(admin.locator('[data-field="secret"]')).to_contain_text("whsec_")  # shown once
        [queued] = _api(base, "POST", "/api/v1/events", json={"type": "order.created", "payload": {"n": 1}})[
            "deliveries"
        ]
        receiver.wait_for(3)
        admin.goto(base + "/dashboard/webhooks?status=failed")
        admin.click(f'tr[data-delivery="{queued["id"]}"] a')
        expect(admin.locator('[data-field="status"]')).to_have_text("failed")
        expect(admin.locator("tr[data-attempt]")).to_have_count(3)
        expect(admin.locator('tr[data-attempt="1"]')).to_contain_text("503")
        expect(admin.locator('[data-field="payload"]')).to_contain_text('"n": 1')

        viewer = _login(browser, base, _viewer_token(base))
        viewer.goto(admin.url)
        expect(viewer.locator("tr[data-attempt]")).to_have_count(3)
        assert viewer.locator("main form[method=post]").count() == 0
        refused = viewer.goto(base + "/dashboard/webhooks/endpoints/new")
        assert refused is not None and refused.status == 403

        up["yes"] = True
        admin.click("button:text('Replay')")
        expect(admin.locator(".flash")).to_contain_text("is being sent again")
        expect(admin.locator('[data-field="status"]')).to_have_text("delivered", timeout=30_000)
        expect(admin.locator("tr[data-attempt]")).to_have_count(4)


def _issue(request: Received, n: int) -> tuple[int, dict[str, Any]]:
    form = parse_qs(request.body.decode())
    if form.get("grant_type") != ["refresh_token"]:
        return 400, {"error": "invalid_request"}
    return 200, {"access_token": f"access-{n}", "refresh_token": f"refresh-{n}", "expires_in": 3600}


def test_refresh_an_integration_now(outbound_platform: str, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base = outbound_platform
    with serve(_issue) as tokens:
        body = {"tenant_id": "t1", "provider": "acme", "token_url": tokens.url + "/token", "client_id": "cid",
                "client_secret": "s3cret", "access_token": "a0", "refresh_token": "r0", "expires_in": 3600,
                "owner_email": "owner@example.com"}  # fmt: skip
        integration = _api(base, "POST", "/api/v1/integrations", json=body)
        viewer = _login(browser, base, _viewer_token(base))
        viewer.goto(base + "/dashboard/integrations")
        expect(viewer.locator(f'tr[data-integration="{integration["id"]}"]')).to_be_visible()
        assert viewer.locator("main form[method=post]").count() == 0
        admin = _login(browser, base, ADMIN_TOKEN)
        admin.goto(base + "/dashboard/integrations")
        row = admin.locator(f'tr[data-integration="{integration["id"]}"]')
        expect(row.locator('[data-field="refreshes"]')).to_have_text("0")
        row.locator('button[data-action="refresh"]').click()
        expect(admin.locator(".flash")).to_contain_text("refresh queued")
        tokens.wait_for(1)
        # the page refreshes itself: the new refresh shows without a reload
        expect(
            admin.locator(f'tr[data-integration="{integration["id"]}"] [data-field="refreshes"]')
        ).to_have_text("1", timeout=30_000)
        row.locator('button[data-action="health-check"]').click()
        expect(admin.locator(".flash")).to_contain_text("health check says")
