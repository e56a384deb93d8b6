"""The OpenAPI document stays true: it describes every route, and real responses match its schemas."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from flask import Flask
from redis import Redis

from tests.conftest import ApiClient, run_worker

IGNORED = {"/static/<path:filename>"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def _app_routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        documented = rule.rule.startswith(("/api/v1", "/admin/scheduler")) or rule.rule == "/healthz"
        if rule.rule in IGNORED or not documented:
            continue
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                routes.add((_openapi_path(rule.rule), method.lower()))
    return routes


def test_every_route_is_documented_and_every_documented_route_exists(api: ApiClient, app: Flask) -> None:
    doc = api.get("/api/v1/openapi.json").get_json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == _app_routes(app)


def _validate(doc: dict[str, Any], path: str, method: str, response: Any) -> None:
    spec = doc["paths"][path][method]["responses"][str(response.status_code)]
    schema = {**spec["content"]["application/json"]["schema"], "components": doc["components"]}
    jsonschema.validate(response.get_json(), schema, cls=jsonschema.Draft202012Validator)


def test_responses_match_their_schemas(api: ApiClient, connection: Redis) -> None:
    doc = api.get("/api/v1/openapi.json").get_json()
    created = api.post("/api/v1/jobs", json={"task": "system.echo", "kwargs": {"a": 1}})
    _validate(doc, "/api/v1/jobs", "post", created)
    job_path = "/api/v1/jobs/{job_id}"
    run_worker(connection)
    _validate(doc, job_path, "get", api.get(created.get_json()["url"]))
    _validate(doc, job_path, "get", api.get("/api/v1/jobs/missing"))
    _validate(doc, "/api/v1/jobs", "post", api.post("/api/v1/jobs", json={"task": "nope.nope"}))
    _validate(doc, "/api/v1/tasks", "get", api.get("/api/v1/tasks"))
    _validate(doc, "/api/v1/queues", "get", api.get("/api/v1/queues"))
    token = api.post("/api/v1/tokens", json={"name": "t", "role": "viewer"})
    _validate(doc, "/api/v1/tokens", "post", token)
    _validate(doc, "/api/v1/tokens", "get", api.get("/api/v1/tokens"))
    _validate(
        doc, "/api/v1/tokens/{token_id}", "delete", api.delete(f"/api/v1/tokens/{token.get_json()['id']}")
    )
    _validate(doc, "/healthz", "get", api.get("/healthz"))
    _validate(doc, "/healthz", "get", api.client.get("/healthz"))
    failed = api.post("/api/v1/jobs", json={"task": "tests.fail"}).get_json()
    run_worker(connection)
    _validate(doc, "/api/v1/jobs/{job_id}/requeue", "post", api.post(f"{failed['url']}/requeue"))
    _validate(doc, job_path, "delete", api.delete(failed["url"]))
