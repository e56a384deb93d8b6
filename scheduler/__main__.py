"""`python -m scheduler`: the Procfile's scheduler process."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from jobs.connection import connect
from jobs.logs import setup_logging
from jobs.registry import load_tasks
from jobs.server_version import exit_if_too_old
from jobs.settings import load_or_exit
from scheduler.engine import Engine


def main() -> None:
    settings = load_or_exit()
    setup_logging(settings)
    load_tasks(settings.process.task_modules)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("taskyard.scheduler").info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    connection = connect(settings)
    exit_if_too_old(connection)
    engine = Engine(connection, settings)
    logging.getLogger("taskyard.scheduler").info("scheduler %s started", engine.name)
    engine.run(stop)


if __name__ == "__main__":
    main()
