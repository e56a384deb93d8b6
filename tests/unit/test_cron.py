"""Cron maths under controlled time: field orders, constants, intervals, time zones and DST."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.cron import NAMED, ScheduleError, parse_duration, parse_schedule

NOW = datetime(2026, 11, 26, 10, 0, 7, 250000, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def runs(expression: str, count: int, after: datetime = NOW, tz: str = "UTC") -> list[datetime]:
    schedule = parse_schedule(expression, tz, now=after)
    found = []
    cursor = after
    for _ in range(count):
        nxt = schedule.next_after(cursor)
        assert nxt is not None
        found.append(nxt)
        cursor = nxt
    return found


def test_six_fields_are_seconds_first() -> None:
    assert runs("*/5 * * * * *", 3) == [
        NOW.replace(second=10, microsecond=0) + timedelta(seconds=5 * i) for i in range(3)
    ]
    # "0 */5 * * * *" is every 5 minutes at second 0, not every 5 seconds and not a year field
    assert runs("0 */5 * * * *", 2) == [
        datetime(2026, 11, 26, 10, 5, tzinfo=UTC),
        datetime(2026, 11, 26, 10, 10, tzinfo=UTC),
    ]


def test_five_fields() -> None:
    assert runs("30 * * * *", 2) == [
        datetime(2026, 11, 26, 10, 30, tzinfo=UTC),
        datetime(2026, 11, 26, 11, 30, tzinfo=UTC),
    ]
    assert runs("0 9 * * 1-5", 1) == [datetime(2026, 11, 27, 9, 0, tzinfo=UTC)]  # Friday


def test_named_constants_match_nestjs() -> None:
    assert runs("EVERY_5_MINUTES", 1) == runs("0 */5 * * * *", 1)
    assert runs("CronExpression.EVERY_DAY_AT_MIDNIGHT", 1) == [datetime(2026, 11, 27, tzinfo=UTC)]
    assert runs("EVERY_30_SECONDS", 2) == [
        datetime(2026, 11, 26, 10, 0, 30, tzinfo=UTC),
        datetime(2026, 11, 26, 10, 1, tzinfo=UTC),
    ]
    assert NAMED["EVERY_WEEK"] == "0 0 0 * * 0"


def test_dom_or_dow_like_vixie_cron() -> None:
    # 13th of the month OR a Friday: both restricted means either matches
    found = runs("0 0 13 * 5", 3)
    assert [d.day for d in found] == [27, 4, 11]  # Fri 27 Nov, Fri 4 Dec, Fri 11 Dec
    assert datetime(2026, 12, 13, tzinfo=UTC) in runs("0 0 13 * 5", 6)


def test_intervals_count_from_the_anchor() -> None:
    schedule = parse_schedule("@every 1h30m", now=NOW)
    assert schedule.next_after(NOW) == NOW + timedelta(minutes=90)
    assert schedule.next_after(NOW + timedelta(minutes=91)) == NOW + timedelta(minutes=180)
    assert schedule.describe() == "every 90 minutes"


def test_after_and_now_and_iso() -> None:
    assert parse_schedule("@after 5s", now=NOW).first_run(NOW) == NOW + timedelta(seconds=5)
    assert parse_schedule("now", now=NOW).first_run(NOW) == NOW
    once = parse_schedule("2026-12-01T09:00:00", "Europe/Berlin", now=NOW)
    assert once.first_run(NOW) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert once.next_after(datetime(2026, 12, 1, 8, 0, tzinfo=UTC)) is None


def test_berlin_2am_all_year() -> None:
    winter = runs("0 2 * * *", 1, datetime(2026, 1, 10, tzinfo=UTC), "Europe/Berlin")[0]
    summer = runs("0 2 * * *", 1, datetime(2026, 7, 10, tzinfo=UTC), "Europe/Berlin")[0]
    assert winter.astimezone(BERLIN).hour == summer.astimezone(BERLIN).hour == 2
    assert (winter.hour, summer.hour) == (1, 0)  # UTC+1 in winter, UTC+2 in summer


def test_dst_spring_forward_runs_right_after_the_jump() -> None:
    # 29 March 2026: Berlin clocks jump from 02:00 to 03:00; 02:30 does not exist
    found = runs("30 2 * * *", 2, datetime(2026, 3, 28, 12, tzinfo=UTC), "Europe/Berlin")
    assert found[0] == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST, right after the jump
    assert found[1].astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 30, 2, 30)


def test_dst_fall_back_runs_once() -> None:
    # 25 October 2026: Berlin clocks go from 03:00 back to 02:00; 02:30 happens twice
    found = runs("30 2 * * *", 2, datetime(2026, 10, 24, 12, tzinfo=UTC), "Europe/Berlin")
    assert found[0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)
    assert found[1].astimezone(BERLIN).date().isoformat() == "2026-10-26"


def test_hourly_keeps_real_hours_across_dst() -> None:
    found = runs("0 * * * *", 4, datetime(2026, 10, 24, 23, 30, tzinfo=UTC), "Europe/Berlin")
    gaps = {b - a for a, b in itertools.pairwise(found)}
    assert gaps == {timedelta(hours=1)}


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("61 * * * *", "invalid cron"),
        ("* * * *", "5 fields"),
        ("* * * * * * *", "5 fields"),
        ("0 0 31 2 *", "invalid cron"),
        ("@every 0s", "at least 1s"),
        ("@every soon", "bad duration"),
        ("2001-01-01T00:00:00Z", "in the past"),
        ("9999-12-31T00:00:00Z", "10 years"),
        ("2026-13-01T00:00:00", "ISO 8601"),
        ("", "empty"),
        ("EVERY_FORTNIGHT", "unknown schedule constant"),
    ],
)
def test_bad_expressions_say_why(expression: str, fragment: str) -> None:
    with pytest.raises(ScheduleError, match=fragment):
        parse_schedule(expression, now=NOW)


def test_unknown_time_zone() -> None:
    with pytest.raises(ScheduleError, match="unknown time zone"):
        parse_schedule("0 2 * * *", "Mars/Olympus", now=NOW)


def test_durations() -> None:
    assert parse_duration("90") == timedelta(seconds=90)
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration("250ms") == timedelta(milliseconds=250)


def test_descriptions_in_words() -> None:
    assert parse_schedule("EVERY_5_MINUTES", now=NOW).describe() == "every fifth minute of every hour (UTC)"
    assert "Europe/Berlin" in parse_schedule("0 2 * * *", "Europe/Berlin", now=NOW).describe()
