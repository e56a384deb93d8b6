"""A scheduled task's status on the pages cannot contradict itself."""

from __future__ import annotations

from web.pages.schedule_form import status_label


def test_a_recurring_task_that_keeps_firing_is_not_failed() -> None:
    label = status_label({"status": "failed", "recurring": True})
    assert label["label"] == "active, last run failed" and label["can_pause"]
    assert status_label({"status": "failed", "recurring": False})["label"] == "failed"
    assert (
        status_label({"status": "active", "recurring": True, "lastExecution": {"status": "failed"}})["label"]
        == "active, last run failed"
    )


def test_retries_never_exceed_the_maximum_and_completed_tasks_cannot_pause() -> None:
    assert status_label({"status": "retry-scheduled", "retryCount": 46, "maxRetries": 1})["label"] == (
        "retrying (1 of 1)"
    )
    done = status_label({"status": "completed", "recurring": False})
    assert not done["can_pause"] and not done["can_resume"] and done["label"] == "completed"
    paused = status_label({"status": "paused", "recurring": True})
    assert paused["can_resume"] and not paused["can_pause"]
