"""Humane times: relative text, exact UTC on hover, durations; never a raw epoch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from web.pages.humane import duration, relative, to_datetime, when

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_relative_and_exact() -> None:
    assert relative(NOW - timedelta(minutes=3), NOW) == "3 min ago"
    assert relative(NOW + timedelta(seconds=12), NOW) == "in 12 s"
    assert relative(NOW, NOW) == "just now"
    html = str(when(NOW - timedelta(hours=2, minutes=4), NOW))
    assert (
        html
        == '<time datetime="2026-12-02T12:00:00Z" title="2026-12-02T12:00:00Z">2 h 4 min ago</time>'.replace(
            "12:00:00Z", "09:56:00Z"
        )
    )
    assert str(when(None)) == "-"
    assert to_datetime(NOW.timestamp() * 1000) == NOW  # the scheduler's epoch milliseconds
    assert to_datetime("2026-12-02T12:00:00+00:00") == NOW


def test_durations() -> None:
    assert [duration(s) for s in (None, 0.35, 4.25, 12, 245, 7380, 3 * 86400 + 4 * 3600)] == [
        "-", "0.35 s", "4.2 s", "12 s", "4 min 5 s", "2 h 3 min", "3 d 4 h",
    ]  # fmt: skip
