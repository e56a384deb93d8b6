"""The Flask extension: settings, the Redis connection and the token store, kept in ``app.extensions``."""

from __future__ import annotations

from dataclasses import dataclass

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

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self


def state() -> Taskyard:
    """The extension of the current app."""
    ext: Taskyard = current_app.extensions[EXTENSION]
    return ext
