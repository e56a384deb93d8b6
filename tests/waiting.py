"""The one way tests wait: poll a condition until it holds or a deadline passes.

Never sleep a fixed time and then count: a loaded 2-core machine makes any fixed sleep too short
sometimes. ``wait_for`` returns the first truthy value the predicate gives, or fails naming ``what``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T], timeout: float, what: str = "the condition", every: float = 0.05
) -> T:
    """Poll ``predicate`` every ``every`` seconds until it returns a truthy value (returned) or
    ``timeout`` seconds pass (AssertionError naming ``what``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)
