"""The Procfile's web process (gunicorn) leaves nothing shared behind on the machine: gunicorn 27
opens a control socket at ``$XDG_RUNTIME_DIR/gunicorn.ctl`` or ``~/.gunicorn/gunicorn.ctl`` by
default, one path for every instance of every user's app on the machine (a second instance takes it
over; anyone who can reach it can reconfigure the server). Ours runs with it disabled."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from jobs.local.redis_server import free_port
from tests.e2e.fault_support import Proc
from tests.waiting import wait_for

pytestmark = pytest.mark.slow


def test_the_web_process_opens_no_shared_control_socket(tmp_path: Path, redis_url: str) -> None:
    home, runtime = tmp_path / "home", tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir()
    port = free_port()
    web = Proc("web.server", redis_url, tmp_path / "web.log", HOME=str(home), XDG_RUNTIME_DIR=str(runtime),
               PORT=str(port), WEB_CONCURRENCY="1")  # fmt: skip
    try:

        def up() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(up, 60, "the web process to answer")
        assert web.popen.poll() is None, web.output()[-2000:]
        assert not (runtime / "gunicorn.ctl").exists()
        assert not (home / ".gunicorn").exists()
    finally:
        web.stop()
