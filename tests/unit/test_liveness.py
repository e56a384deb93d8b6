"""One liveness rule for workers and schedulers: a heartbeat no older than HEARTBEAT_STALE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.settings import load_settings
from tests.conftest import TEST_ENV
from web.read_model.liveness import is_alive

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_a_heartbeat_is_alive_up_to_the_stale_limit_in_either_form() -> None:
    settings = load_settings({**TEST_ENV, "HEARTBEAT_STALE": "30"})
    assert is_alive(NOW - timedelta(seconds=30), NOW, settings)  # a worker's datetime
    assert not is_alive(NOW - timedelta(seconds=30.5), NOW, settings)
    assert is_alive(NOW.timestamp() - 29.9, NOW, settings)  # a scheduler's epoch seconds
    assert not is_alive(NOW.timestamp() - 31, NOW, settings)
    assert not is_alive(None, NOW, settings)
