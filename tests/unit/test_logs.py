"""Routine RQ worker chatter (registry cleaning on every maintenance pass) is DEBUG, not INFO."""

from __future__ import annotations

import logging

import pytest
from rq import Queue, SimpleWorker

from jobs.logs import setup_logging
from jobs.settings import load_settings


def clean_registries(fake_connection) -> None:  # type: ignore[no-untyped-def]
    worker = SimpleWorker([Queue("default", connection=fake_connection)], connection=fake_connection)
    worker.clean_registries()  # RQ's own maintenance step, which logs "cleaning registries ..."


@pytest.fixture(autouse=True)
def restore_logging():  # type: ignore[no-untyped-def]
    root, rq_worker = logging.getLogger(), logging.getLogger("rq.worker")
    saved = (root.handlers[:], root.level, rq_worker.filters[:])
    yield
    root.handlers[:], root.level, rq_worker.filters[:] = saved[0], saved[1], saved[2]


def test_registry_cleaning_is_not_logged_at_info(fake_connection, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    setup_logging(load_settings({"LOG_LEVEL": "INFO"}))
    clean_registries(fake_connection)
    logging.getLogger("rq.worker").info("Worker %s: something worth reading", "w1")
    err = capsys.readouterr().err
    assert "cleaning" not in err
    assert "something worth reading" in err  # other RQ lines still pass


def test_registry_cleaning_is_logged_at_debug(fake_connection, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    setup_logging(load_settings({"LOG_LEVEL": "DEBUG"}))
    clean_registries(fake_connection)
    err = capsys.readouterr().err
    assert "DEBUG rq.worker: Worker" in err and "cleaning registries for queue: default" in err
