"""Plain RQ job functions, not registered as tasks: what a team's existing RQ code looks like."""

from __future__ import annotations


def shout(text: str) -> str:
    """Upper-case ``text``."""
    return text.upper()


def on_success(job: object, connection: object, result: object) -> None:
    """A success callback that does nothing."""


def slow_fail(seconds: float = 1.0, message: str = "slow boom") -> None:
    """Raise after ``seconds`` (time for another process to act on the running job)."""
    import time

    time.sleep(seconds)
    raise ValueError(message)


_CALLS: list[int] = []


def count_calls() -> int:
    """How many times this process has run this function (a module global, as plain RQ code keeps)."""
    _CALLS.append(1)
    return len(_CALLS)


def map_untouched(gigabytes: int = 3) -> int:
    """Map ``gigabytes`` of anonymous memory without touching it, as jobs that map large files do."""
    import mmap

    region = mmap.mmap(-1, gigabytes << 30)
    size = len(region)
    region.close()
    return size


class Greeter:
    """A plain class whose bound method is enqueued (RQ pickles the instance)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def greet(self) -> str:
        return f"hello {self.name}"
