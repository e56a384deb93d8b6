"""The web process (`python -m web.server`): gunicorn serving :func:`web.create_app` on ``$PORT``.

Settings are validated before gunicorn starts, so a bad variable is one line and exit status 2.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from jobs.connection import connect
from jobs.logs import setup_logging
from jobs.server_version import exit_if_too_old
from jobs.settings import Settings, load_or_exit
from web import create_app


class WebServer(BaseApplication):
    """Gunicorn with our app and options, without a config file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"0.0.0.0:{self.settings.web.port}",
            "workers": self.settings.web.concurrency,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 30,
            "graceful_timeout": 20,
            "accesslog": None,
            "loglevel": self.settings.process.log_level.lower(),
            # gunicorn 27's control socket defaults to ~/.gunicorn/gunicorn.ctl, one path shared by
            # every instance on the machine; we don't use it.
            "control_socket_disable": True,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app(self.settings)


def main() -> None:
    settings = load_or_exit()
    setup_logging(settings)
    connection = connect(settings)
    exit_if_too_old(connection)
    connection.close()
    WebServer(settings).run()


if __name__ == "__main__":
    main()
