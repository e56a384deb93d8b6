"""A chunked request body over MAX_BODY_BYTES, sent to the real web process (gunicorn), is refused
with a 413 like a body with a Content-Length; one under the limit is accepted whole."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from redis import Redis
from rq import Queue

from jobs.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.e2e.platform_support import running_platform

LIMIT = 4096

pytestmark = pytest.mark.slow


@pytest.fixture
def web(settings: Settings) -> Iterator[int]:
    """The web process alone on a free port; yields the port."""
    with running_platform(
        settings, processes=("web.server",), secret_key="chunked-test-secret", MAX_BODY_BYTES=str(LIMIT)
    ) as url:
        port = urlsplit(url).port
        assert port is not None
        yield port


def _post_chunked(port: int, body: bytes) -> tuple[int, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    chunks = (body[i : i + 1000] for i in range(0, len(body), 1000))
    connection.request(
        "POST",
        "/api/v1/jobs",
        body=chunks,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    payload = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, payload


def _job(padding: int) -> bytes:
    return json.dumps({"task": "system.echo", "kwargs": {"pad": "a" * padding}}).encode()


def test_chunked_body_over_the_limit_is_413_and_nothing_is_enqueued(web: int, connection: Redis) -> None:
    status, payload = _post_chunked(web, _job(LIMIT * 3))
    assert status == 413, payload
    assert payload["error"]["code"] == "request_entity_too_large"  # type: ignore[index]
    assert Queue("default", connection=connection).count == 0


def test_chunked_body_under_the_limit_is_accepted_whole(web: int, connection: Redis) -> None:
    body = _job(LIMIT - 200)
    assert len(body) < LIMIT
    status, payload = _post_chunked(web, body)
    assert status in (201, 202), payload
    (job,) = Queue("default", connection=connection).jobs
    assert job.kwargs == {"pad": "a" * (LIMIT - 200)}
