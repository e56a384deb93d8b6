"""Webhook endpoints from the browser: create (secret shown once), edit, disable, delete; viewers get
no form; a bad URL is an error under its field; breakers reset from the health page."""

from __future__ import annotations

from flask import Flask
from redis import Redis

from jobs.webhooks.store import WebhookStore
from tests.conftest import ADMIN_TOKEN
from tests.web_login import SAME_ORIGIN, login, make_token


def test_endpoint_create_edit_disable_delete(app: Flask, connection: Redis) -> None:
    client = app.test_client()
    csrf = login(client, ADMIN_TOKEN)
    bad = client.post(
        "/dashboard/webhooks/endpoints/new",
        data={
            "csrf_token": csrf,
            "url": "http://127.0.0.1:9/hook",
            "events": "order.created",
            "active": "on",
        },
        headers=SAME_ORIGIN,
    )
    assert bad.status_code == 400 and 'data-error-for="url"' in bad.get_data(as_text=True)  # private: refused
    made = client.post(
        "/dashboard/webhooks/endpoints/new",
        data={
            "csrf_token": csrf,
            "url": "https://93.184.216.34/x",
            "events": "order.created, *",
            "active": "on",
        },
        headers=SAME_ORIGIN,
    )
    page = made.get_data(as_text=True)
    assert made.status_code == 200 and 'data-field="secret">whsec_' in page
    [endpoint] = WebhookStore(connection).endpoints()
    assert endpoint.active and sorted(endpoint.events) == ["*", "order.created"]
    edited = client.post(
        f"/dashboard/webhooks/endpoints/{endpoint.id}/edit",
        data={"csrf_token": csrf, "url": "https://93.184.216.34/y", "events": "order.created", "active": "on",
              "description": "<b>orders</b>"},
        headers=SAME_ORIGIN,
    )  # fmt: skip
    assert edited.status_code == 302
    listing = client.get("/dashboard/webhooks").get_data(as_text=True)
    assert "https://93.184.216.34/y" in listing and "&lt;b&gt;orders&lt;/b&gt;" in listing
    client.post(
        f"/dashboard/webhooks/endpoints/{endpoint.id}/toggle", data={"csrf_token": csrf}, headers=SAME_ORIGIN
    )
    assert not WebhookStore(connection).get_endpoint(endpoint.id).active  # type: ignore[union-attr]
    client.post(
        f"/dashboard/webhooks/endpoints/{endpoint.id}/delete", data={"csrf_token": csrf}, headers=SAME_ORIGIN
    )
    assert WebhookStore(connection).endpoints() == []
    viewer = app.test_client()
    login(viewer, make_token(app, "viewer"))
    assert viewer.get("/dashboard/webhooks/endpoints/new").status_code == 403
    assert "New endpoint" not in viewer.get("/dashboard/webhooks").get_data(as_text=True)
    assert client.get("/dashboard/webhooks/deliveries/whd_0000000000000000").status_code == 404
