"""The outbound URL policy: non-public addresses (also inside IPv6 transition forms) are refused when a
webhook or OAuth integration is registered or changed, and again at connect time, where the request
goes to the very address that was checked.

Nothing here sends to anything but receivers on 127.0.0.1 that the tests start: refusals are checked
by their 4xx answer and by the receiver having got nothing. Host names are resolved by a stand-in
for ``socket.getaddrinfo`` that answers chosen addresses for ``*.test`` names and passes everything
else (numeric addresses, Redis on 127.0.0.1) to the real one.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis

from jobs.handler_context import use_settings
from jobs.outbound.pinned_http import checked_post
from jobs.outbound.url_policy import TargetRefused, check_url, is_public
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient
from tests.drive import drive
from tests.receivers import fail_then_succeed, serve
from web import create_app

SECRET = "whsec-0123456789abcdef"
NOT_PUBLIC = [
    "100.100.100.200",  # shared address space: a cloud metadata service
    "100.64.0.1",
    "192.0.0.8",  # IETF protocol assignments (Python 3.11 calls it global)
    "192.0.0.170",
    "198.18.0.1",
    "224.0.0.1",  # multicast (Python calls it global)
    "240.0.0.1",
    "127.0.0.1",
    "10.1.2.3",
    "169.254.169.254",
    "0.0.0.0",
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 around 169.254.169.254
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:100.100.100.200",
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::808:808",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
    "::1",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "2001:db8::1",
]
PUBLIC = [
    "8.8.8.8",
    "93.184.216.34",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "2002:808:808::",
    "64:ff9b::808:808",
]


def _url(address: str, port: int = 80) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}/hook"


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(address)
    with pytest.raises(TargetRefused):
        check_url(_url(address), allow_private=False)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert is_public(address)
    assert check_url(_url(address), allow_private=False) == _url(address)


class FakeDNS:
    """Answers for ``*.test`` names, one list per lookup (the last repeats); a ``None`` answer fails."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str] | None]] = {}
        self.lookups: list[str] = []
        self.real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.endswith(".test"):
            return self.real(host, port, *args, **kwargs)
        self.lookups.append(name)
        queue = self.answers[name]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port or 80)))
            for a in answer
        ]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDNS]:
    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    yield fake


def _strict(redis_url: str) -> Settings:
    return load_settings({**TEST_ENV, "REDIS_URL": redis_url, "WEBHOOK_RETRY_SCHEDULE": "0"})


@pytest.mark.parametrize("address", ["100.100.100.200", "192.0.0.8", "2002:7f00:1::", "64:ff9b::7f00:1"])
def test_registration_and_update_are_refused(redis_url: str, connection: Redis, address: str) -> None:
    api = ApiClient(create_app(_strict(redis_url), connection).test_client(), ADMIN_TOKEN)
    body = {"url": _url(address), "secret": SECRET, "events": ["*"]}
    refused = api.post("/api/v1/webhooks/endpoints", json=body)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "target_refused"
    created = api.post("/api/v1/webhooks/endpoints", json={**body, "url": "http://93.184.216.34/hook"})
    assert created.status_code == 201
    endpoint = f"/api/v1/webhooks/endpoints/{created.get_json()['id']}"
    changed = api.client.patch(
        endpoint, json={"url": _url(address)}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert changed.status_code == 400 and changed.get_json()["error"]["code"] == "target_refused"
    assert api.get(endpoint).get_json()["url"] == "http://93.184.216.34/hook"
    integration = api.post(
        "/api/v1/integrations",
        json={"tenant_id": "t1", "provider": "acme", "token_url": _url(address), "client_id": "cid",
              "client_secret": "s", "access_token": "a", "refresh_token": "r", "expires_in": 3600,
              "owner_email": "owner@example.com"},
    )  # fmt: skip
    assert integration.status_code == 400 and integration.get_json()["error"]["code"] == "target_refused"


def test_a_name_that_turns_private_after_registration_is_refused_at_connect_time(
    redis_url: str, connection: Redis, dns: FakeDNS
) -> None:
    settings = _strict(redis_url)
    api = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
    with serve(fail_then_succeed(0)) as receiver, use_settings(settings):
        port = int(receiver.url.rsplit(":", 1)[1])
        dns.answers["hooks.rebind.test"] = [["93.184.216.34"], ["127.0.0.1"]]
        created = api.post(
            "/api/v1/webhooks/endpoints",
            json={"url": f"http://hooks.rebind.test:{port}/hook", "secret": SECRET, "events": ["*"]},
        )
        assert created.status_code == 201, created.get_json()
        queued = api.post("/api/v1/events", json={"type": "order.created", "payload": {}}).get_json()
        [item] = queued["deliveries"]

        def finished() -> bool:
            return api.get(f"/api/v1/webhooks/deliveries/{item['id']}").get_json()["status"] == "failed"

        drive(connection, settings, finished)
        view = api.get(f"/api/v1/webhooks/deliveries/{item['id']}").get_json()
        assert "target refused" in (view["last_error"] or "")
        assert receiver.requests == []  # nothing reached 127.0.0.1


def test_checked_post_refuses_before_sending(dns: FakeDNS) -> None:
    with serve(fail_then_succeed(0)) as receiver:
        port = int(receiver.url.rsplit(":", 1)[1])
        dns.answers["inside.test"] = [["93.184.216.34", "127.0.0.1"]]  # one bad answer is enough
        with pytest.raises(TargetRefused):
            checked_post(allow_private=False)(f"http://inside.test:{port}/hook", data=b"{}", timeout=5)
        assert receiver.requests == []


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(
    redis_url: str, connection: Redis, dns: FakeDNS
) -> None:
    """Private targets allowed (so the test may reach its own receiver): the name is resolved once, to
    127.0.0.1; any later lookup would fail. The delivery still arrives, with the name as its Host."""
    settings = load_settings(
        {
            **TEST_ENV,
            "REDIS_URL": redis_url,
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "WEBHOOK_RETRY_SCHEDULE": "0",
        }
    )
    api = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
    with serve(fail_then_succeed(0)) as receiver, use_settings(settings):
        port = int(receiver.url.rsplit(":", 1)[1])
        dns.answers["pinned.test"] = [["127.0.0.1"], None]
        created = api.post(
            "/api/v1/webhooks/endpoints",
            json={"url": f"http://pinned.test:{port}/hook", "secret": SECRET, "events": ["*"]},
        )
        assert created.status_code == 201
        [item] = api.post("/api/v1/events", json={"type": "order.created", "payload": {}}).get_json()[
            "deliveries"
        ]

        def done() -> bool:
            status = api.get(f"/api/v1/webhooks/deliveries/{item['id']}").get_json()["status"]
            return status in ("delivered", "failed")

        drive(connection, settings, done)
        view = api.get(f"/api/v1/webhooks/deliveries/{item['id']}").get_json()
        assert view["status"] == "delivered", view
        [request] = receiver.requests
        assert request.headers["Host"] == f"pinned.test:{port}"
        assert dns.lookups == ["pinned.test"]


def test_an_oauth_token_url_that_turns_private_is_refused_at_refresh_time(
    redis_url: str, connection: Redis, dns: FakeDNS
) -> None:
    from jobs.builtin.oauth import RefreshFailed, run_refresh

    settings = _strict(redis_url)
    api = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
    with serve(fail_then_succeed(0)) as provider, use_settings(settings):
        port = int(provider.url.rsplit(":", 1)[1])
        dns.answers["tokens.rebind.test"] = [["93.184.216.34"], ["127.0.0.1"]]
        created = api.post(
            "/api/v1/integrations",
            json={"tenant_id": "t1", "provider": "acme", "token_url": f"http://tokens.rebind.test:{port}/token",
                  "client_id": "cid", "client_secret": "s", "access_token": "a", "refresh_token": "r",
                  "expires_in": 3600, "owner_email": "owner@example.com"},
        )  # fmt: skip
        assert created.status_code == 201, created.get_json()
        with pytest.raises(RefreshFailed, match="TargetRefused"):
            run_refresh(connection, settings, created.get_json()["id"])
        assert provider.requests == []
