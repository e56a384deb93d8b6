"""A scheduled task's definition is merged and checked without Flask: refusals are domain errors
with the API's codes and field-first messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis import Redis

import tests.fixtures  # noqa: F401  (registers tests.add)
from scheduler.definitions import DefinitionError, build_definition
from scheduler.store import TaskStore
from scheduler.tasks import Definition

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def build(connection: Redis, **given: object) -> Definition:
    fields = {
        "name": "t",
        "handler": "tests.add",
        "params": {"a": 1, "b": 2},
        "schedule": "@every 5m",
        **given,
    }
    return build_definition(fields, None, NOW, TaskStore(connection), 1000)


@pytest.mark.parametrize(
    ("given", "code", "field"),
    [
        ({"handler": "os.system"}, "unknown_handler", "handler"),
        ({"schedule": "61 * * * *"}, "invalid_schedule", "schedule"),
        ({"timezone": "Mars/Base"}, "invalid_schedule", "timezone"),
        ({"schedule": "now", "recurring": True}, "validation_error", "recurring"),
        ({"params": {"a": 1}}, "invalid_params", "params"),
        ({"onSuccess": "nobody"}, "validation_error", "onSuccess"),
    ],
)
def test_refusals_name_their_code_and_field(
    fake_connection: Redis, given: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(DefinitionError) as refused:
        build(fake_connection, **given)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_defaults_and_follower_by_name(fake_connection: Redis) -> None:
    store = TaskStore(fake_connection)
    first = store.create(build(fake_connection, name="first"), NOW)
    second = build(fake_connection, name="second", onSuccess="first", maxRetries=2)
    assert second.on_success == first.id
    assert (second.retry_delay, second.max_retries, second.recurring) == (1000, 2, True)
