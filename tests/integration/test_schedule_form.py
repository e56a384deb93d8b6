"""The scheduled-task form: fields with labels and help, errors under their field, the next runs
previewed, the handler's description, and no form at all for viewers."""

from __future__ import annotations

import re

from flask import Flask

from tests.conftest import ADMIN_TOKEN
from tests.web_login import SAME_ORIGIN, login, make_token


def test_bad_cron_is_an_inline_error_and_a_good_one_previews_its_next_runs(app: Flask) -> None:
    client = app.test_client()
    csrf = login(client, ADMIN_TOKEN)
    form = client.get("/dashboard/schedules/new").get_data(as_text=True)
    assert '<label class="form-label" for="f-schedule">Schedule</label>' in form
    assert "data-handler-help" in form and "Type a schedule to see its next runs." in form
    bad = client.post(
        "/dashboard/schedules/new",
        data={"csrf_token": csrf, "name": "nightly", "handler": "system.echo", "schedule": "61 * * * *"},
        headers=SAME_ORIGIN,
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert re.search(r'class="form-control font-monospace is-invalid"', page)
    assert re.search(r'data-error-for="schedule">schedule: [^<]+', page), page
    assert 'value="61 * * * *"' in page  # what was typed stays
    preview = client.get("/dashboard/schedules/preview?schedule=0+9+*+*+1-5&timezone=Europe/Berlin")
    text = preview.get_data(as_text=True)
    assert text.count("data-next-run") == 5 and "<html" not in text
    assert "data-preview-error" in client.get("/dashboard/schedules/preview?schedule=nope+nope").get_data(
        as_text=True
    )
    once = client.get("/dashboard/schedules/preview?schedule=%40after+10m").get_data(as_text=True)
    assert once.count("data-next-run") == 1


def test_viewers_never_reach_the_form(app: Flask) -> None:
    viewer = app.test_client()
    login(viewer, make_token(app, "viewer"))
    assert viewer.get("/dashboard/schedules/new").status_code == 403
    assert viewer.get("/dashboard/schedules/preview?schedule=*+*+*+*+*").status_code == 403
    assert "New scheduled task" not in viewer.get("/dashboard/schedules").get_data(as_text=True)
