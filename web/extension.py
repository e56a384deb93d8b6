"""The Flask extension: settings, the Redis connection and the token store, kept in ``app.extensions``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask, current_app
from redis import Redis

from jobs.api_tokens import TokenStore
from jobs.settings import Settings

EXTENSION = "taskyard"


@dataclass
class Taskyard:
    """What request handlers need, built once per app by :func:`web.create_app`."""

    settings: Settings
    connection: Redis
    tokens: TokenStore
    clock: Callable[[], float] = field(default=time.time)  # epoch seconds; tests pass tests/clock.py's Clock

    def now(self) -> datetime:
        """The app's one clock, as an aware UTC datetime: views that plan or judge by time read it here,
        so a test moves time instead of waiting for it."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self


def state() -> Taskyard:
    """The extension of the current app."""
    ext: Taskyard = current_app.extensions[EXTENSION]
    return ext
