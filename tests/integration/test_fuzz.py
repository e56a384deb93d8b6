"""Schemathesis fuzzes every documented operation (/api/v1, /admin/scheduler, /healthz) on real Redis:
no 5xx, and every response matches the OpenAPI document (status, content type, headers, body).

Bounded for the suite (a few examples per operation, derandomized: the same cases every run, ~10 s).
A deeper, random run: ``FUZZ_EXAMPLES=250 FUZZ_RANDOM=1 pytest tests/integration/test_fuzz.py``.
"""

from __future__ import annotations

import os

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from jobs import keys
from tests.conftest import ADMIN_TOKEN
from web.api.openapi import document

# The document is pure data (built from the pydantic models), so it is loaded without an app or Redis;
# each case goes to the test's own app (real Redis, flushed per test).
schema = schemathesis.openapi.from_dict(document())
# Auth as configuration, not as a per-call override: cases that drop the token on purpose stay without it.
schema.config.update(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "6")),
    derandomize="FUZZ_RANDOM" not in os.environ,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_document(case: schemathesis.Case, app: Flask) -> None:
    case.operation.schema.app = app  # schemathesis's own probes (e.g. "ignored auth") go there too
    # Redis is not flushed between examples: forget the wrong tokens earlier probes sent, so each case
    # sees the API as a first-time caller does (the slow-down itself is tested elsewhere). Schemathesis's
    # WSGI calls carry no REMOTE_ADDR, so the address is "unknown".
    app.extensions["taskyard"].connection.delete(
        keys.bearer_failures("unknown"), keys.bearer_block("unknown")
    )
    # Every check but "schema-valid data is accepted": a request can match the schema and still name an
    # unregistered task, a missing job or a taken name, which the API refuses with a documented 4xx.
    case.call_and_validate(app=app, excluded_checks=[positive_data_acceptance])
