"""The log lines of a scheduled task's run, worded and levelled as the design notes show them.

The design note on task scheduling logs ``Starting <name> task...`` and ``<name> task completed
successfully`` at debug level and ``<name> task failed: <error>`` at error level, with the duration
(``Task completed in <n>ms`` / ``Task failed after <n>ms``). We log the same words on the
``taskyard.tasks`` logger; the JSON log format carries ``task``, ``event`` and ``duration_ms`` as fields
too. A failed attempt logs at error level even when a retry follows, as the note does.
"""

from __future__ import annotations

import logging

log = logging.getLogger("taskyard.tasks")


def started(name: str) -> None:
    log.debug("Starting %s task...", name, extra={"task": name, "event": "started"})


def completed(name: str, duration_ms: float) -> None:
    log.debug(
        "%s task completed successfully in %.0fms",
        name,
        duration_ms,
        extra={"task": name, "event": "completed", "duration_ms": duration_ms},
    )


def failed(name: str, duration_ms: float, error: str, will_retry: bool) -> None:
    log.log(
        logging.ERROR,
        "%s task failed after %.0fms: %s%s",
        name,
        duration_ms,
        error,
        " (a retry is scheduled)" if will_retry else "",
        extra={"task": name, "event": "failed", "duration_ms": duration_ms, "will_retry": will_retry},
    )
