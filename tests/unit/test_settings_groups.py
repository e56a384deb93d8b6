"""The settings object is grouped per area, and a process reads its environment once."""

from __future__ import annotations

from dataclasses import fields

import pytest

import jobs.settings
from jobs.handler_context import job_settings, use_settings
from jobs.settings import GROUPS, Settings, load_or_exit, load_settings
from jobs.settings.declare import declarations


def test_every_group_of_settings_is_in_the_reference_and_fully_declared() -> None:
    assert [f.type for f in fields(Settings)] == [group.__name__ for group in GROUPS]
    variables = [d.variable for group in GROUPS for _, d in declarations(group)]
    assert len(variables) == len(set(variables))


def test_settings_are_read_by_area() -> None:
    settings = load_settings({"JOB_CONCURRENCY": "4", "SMTP_FROM": "jobs@example.com", "PORT": "8080"})
    assert (settings.worker.concurrency, settings.smtp.sender, settings.web.port) == (
        4,
        "jobs@example.com",
        8080,
    )


def test_handlers_get_the_settings_the_process_loaded_not_a_second_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs.settings, "_loaded", None)
    monkeypatch.setenv("WEBHOOK_TIMEOUT", "3")
    loaded = load_or_exit()
    monkeypatch.setenv("WEBHOOK_TIMEOUT", "7")  # a later change of the environment is not seen
    assert job_settings() is loaded
    other = load_settings({})
    with use_settings(other):
        assert job_settings() is other
    assert job_settings() is loaded


def test_the_webhook_retry_interval_sets_the_sweep_unless_its_schedule_is_set() -> None:
    assert load_settings({}).scheduler.overrides == {}
    assert load_settings({"WEBHOOK_RETRY_INTERVAL_MINUTES": "90"}).scheduler.overrides == {
        "SCHEDULE_WEBHOOKS_RETRY_SWEEP": "@every 90m"
    }
    own = {"WEBHOOK_RETRY_INTERVAL_MINUTES": "10", "SCHEDULE_WEBHOOKS_RETRY_SWEEP": "off"}
    assert load_settings(own).scheduler.overrides == {"SCHEDULE_WEBHOOKS_RETRY_SWEEP": "off"}
