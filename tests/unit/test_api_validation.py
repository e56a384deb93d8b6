"""Bad input of every kind gets a clear 4xx JSON error and stores nothing (fakeredis)."""

from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis

from tests.conftest import ApiClient


def assert_error(response, status: int, code: str, fragment: str = "") -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == code
    assert fragment in body["error"]["message"]


def post_job(api: ApiClient, body: object):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/jobs", json=body)


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"task": "os.system", "args": ["rm -rf /"]}, "unknown_task", "os.system"),
        ({"task": "system.echo", "queue": "nope"}, "unknown_queue", "nope"),
        ({"task": "system.echo", "args": "not-a-list"}, "validation_error", "args"),
        ({"task": "system.echo", "kwargs": [1]}, "validation_error", "kwargs"),
        ({"task": 42}, "validation_error", "task"),
        ({}, "validation_error", "task"),
        ({"task": "system.echo", "delay_seconds": -5}, "validation_error", "delay_seconds"),
        ({"task": "system.echo", "timeout": "10"}, "validation_error", "timeout"),
        ({"task": "system.echo", "max_retries": 100}, "validation_error", "max_retries"),
        ({"task": "system.echo", "job_id": "has spaces"}, "validation_error", "job_id"),
        ({"task": "system.echo", "run_at": "2030-01-01T00:00:00"}, "validation_error", "run_at"),
        ({"task": "system.echo", "run_at": "2001-01-01T00:00:00+00:00"}, "validation_error", "past"),
        ({"task": "system.echo", "run_at": "9999-12-31T00:00:00+00:00"}, "validation_error", "year"),
        ({"task": "system.echo", "surprise": 1}, "validation_error", "surprise"),
        ([1, 2], "validation_error", ""),
    ],
)
def test_bad_job_bodies(
    fake_api: ApiClient, fake_connection: Redis, body: object, code: str, fragment: str
) -> None:
    assert_error(post_job(fake_api, body), 400, code, fragment)
    assert not [k for k in fake_connection.keys("rq:job:*")]


def test_both_delay_and_run_at(fake_api: ApiClient) -> None:
    run_at = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert_error(post_job(fake_api, {"task": "system.echo", "delay_seconds": 5, "run_at": run_at}),
                 400, "validation_error", "not both")  # fmt: skip


def test_not_json(fake_api: ApiClient) -> None:
    response = fake_api.post("/api/v1/jobs", data="task=x", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")
    response = fake_api.post("/api/v1/jobs", data="{nope", content_type="application/json")
    assert_error(response, 400, "invalid_json")
    response = fake_api.post("/api/v1/jobs", data=b'{"task": "\xff"}', content_type="application/json")
    assert_error(response, 400, "invalid_json", "UTF-8")


def test_deep_nesting(fake_api: ApiClient) -> None:
    body = '{"task": "system.echo", "args": [' + "[" * 5000 + "]" * 5000 + "]}"
    response = fake_api.post("/api/v1/jobs", data=body, content_type="application/json")
    assert_error(response, 400, "validation_error", "nested")


def test_body_too_large(fake_api: ApiClient) -> None:
    body = '{"task": "system.echo", "kwargs": {"x": "' + "a" * 2_000_000 + '"}}'
    response = fake_api.post("/api/v1/jobs", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_auth_required(fake_app) -> None:  # type: ignore[no-untyped-def]
    client = fake_app.test_client()
    assert_error(client.get("/api/v1/tasks"), 401, "unauthorized", "missing")
    assert_error(client.get("/api/v1/tasks", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    assert_error(client.get("/api/v1/tasks", headers={"Authorization": "Basic abc"}), 401, "unauthorized")


def test_unknown_route_and_method_are_json(fake_api: ApiClient) -> None:
    assert_error(fake_api.get("/api/v1/nothing"), 404, "not_found")
    response = fake_api.client.put("/api/v1/tasks", headers={"Authorization": "Bearer x"})
    assert response.status_code in (401, 405)
    assert response.get_json()["error"]


def test_unknown_job(fake_api: ApiClient) -> None:
    assert_error(fake_api.get("/api/v1/jobs/does-not-exist"), 404, "job_not_found")
    assert_error(fake_api.delete("/api/v1/jobs/does-not-exist"), 404, "job_not_found")
    assert_error(fake_api.post("/api/v1/jobs/does-not-exist/requeue"), 404, "job_not_found")


def test_viewer_cannot_change(fake_api: ApiClient, fake_app) -> None:  # type: ignore[no-untyped-def]
    created = fake_api.post("/api/v1/tokens", json={"name": "ops", "role": "viewer"})
    assert created.status_code == 201
    viewer = ApiClient(fake_app.test_client(), created.get_json()["token"])
    assert viewer.get("/api/v1/tasks").status_code == 200
    assert_error(viewer.post("/api/v1/jobs", json={"task": "system.echo"}), 403, "forbidden")
    assert_error(viewer.get("/api/v1/tokens"), 403, "forbidden")
    revoked = fake_api.delete(f"/api/v1/tokens/{created.get_json()['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert_error(viewer.get("/api/v1/tasks"), 401, "unauthorized")


def test_tokens_are_stored_hashed(fake_api: ApiClient, fake_connection: Redis) -> None:
    secret = fake_api.post("/api/v1/tokens", json={"name": "x", "role": "admin"}).get_json()["token"]
    dump = b"".join(fake_connection.hvals("taskyard:tokens")) + b"".join(
        fake_connection.hkeys("taskyard:tokens:by-hash")
    )
    assert secret.encode() not in dump
