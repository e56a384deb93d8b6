"""Log set-up shared by every process: level from LOG_LEVEL, text or JSON lines from LOG_FORMAT."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from jobs.settings import Settings


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, plus any ``extra={...}`` fields."""

    _RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self._RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# RQ's worker logs these at INFO on every maintenance pass (registry cleaning every few seconds per
# worker) and after every job: routine chatter that buries what an operator reads. They become DEBUG.
ROUTINE_RQ_MESSAGES = (
    "Worker %s: cleaning registries for queue: %s",
    "Worker %s: cleaning group registries",
    "Worker %s: job %s result is kept for %s seconds",
)


class RoutineToDebug(logging.Filter):
    """Demote :data:`ROUTINE_RQ_MESSAGES` to DEBUG: dropped unless the process logs at DEBUG."""

    def __init__(self, debug: bool) -> None:
        super().__init__()
        self.debug = debug

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg not in ROUTINE_RQ_MESSAGES:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return self.debug


def setup_logging(settings: Settings) -> None:
    """Configure the root logger once for this process."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.process.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.process.log_level)
    rq_worker = logging.getLogger("rq.worker")
    for old in [f for f in rq_worker.filters if isinstance(f, RoutineToDebug)]:
        rq_worker.removeFilter(old)
    rq_worker.addFilter(RoutineToDebug(settings.process.log_level == "DEBUG"))
