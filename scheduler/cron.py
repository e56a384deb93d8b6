"""Schedule expressions → the next run time. Pure: no Redis, no clock (``now`` is always a parameter).

Accepted syntax (``parse_schedule``):

- ``now``: once, at creation.
- an ISO 8601 datetime (``2026-12-01T09:00:00+01:00``; without an offset it is read in the task's time
  zone): once, then.
- 5-field cron ``m h dom mon dow`` (Vixie/Debian semantics: when both day-of-month and day-of-week are
  restricted a day matches if **either** does).
- 6-field cron with **seconds first**, as NestJS writes it: ``*/5 * * * * *`` = every 5 seconds.
  (croniter puts seconds last and rq-scheduler's ``crontab`` reads a 6th field as a year; we evaluate
  with ``cronsim``, which reads a leading seconds field exactly as NestJS does.)
- the named constants of ``@nestjs/schedule`` (``EVERY_5_MINUTES``, ``EVERY_DAY_AT_MIDNIGHT``, also as
  ``CronExpression.EVERY_5_MINUTES``).
- ``@every 30s`` / ``@every 5m`` / ``@every 1h30m``: a fixed interval, counted from an anchor time.
- ``@after 5s``: once, that long after an anchor (code-declared ``@Timeout``-style schedules: the anchor
  is the scheduler's start).

Time zones and DST: cron fields are matched in the task's IANA time zone. On DST days a 5-field
expression behaves like Debian cron: a run whose local time falls in the skipped hour (spring forward)
happens right after the jump, and a run whose local time occurs twice (fall back) happens once, at the
first occurrence. Expressions with a wildcard hour (``0 * * * *``) and 6-field expressions follow real
elapsed time instead, so "every hour" stays every 60 minutes across the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

MAX_ONE_TIME_AHEAD = timedelta(days=3660)  # a one-time run more than ~10 years ahead is a typo
ONE_TIME_PAST_TOLERANCE = timedelta(minutes=5)  # a one-time run this far in the past means "now"
MIN_INTERVAL = timedelta(seconds=1)  # the engine's resolution for @every

# @nestjs/schedule's CronExpression constants, six fields, seconds first.
NAMED: dict[str, str] = {
    "EVERY_SECOND": "* * * * * *",
    "EVERY_5_SECONDS": "*/5 * * * * *",
    "EVERY_10_SECONDS": "*/10 * * * * *",
    "EVERY_30_SECONDS": "*/30 * * * * *",
    "EVERY_MINUTE": "0 * * * * *",
    "EVERY_5_MINUTES": "0 */5 * * * *",
    "EVERY_10_MINUTES": "0 */10 * * * *",
    "EVERY_30_MINUTES": "0 */30 * * * *",
    "EVERY_HOUR": "0 0 * * * *",
    "EVERY_2_HOURS": "0 0 */2 * * *",
    "EVERY_3_HOURS": "0 0 */3 * * *",
    "EVERY_4_HOURS": "0 0 */4 * * *",
    "EVERY_6_HOURS": "0 0 */6 * * *",
    "EVERY_12_HOURS": "0 0 */12 * * *",
    "EVERY_2ND_HOUR": "0 0 */2 * * *",
    "EVERY_DAY_AT_1AM": "0 0 1 * * *",
    "EVERY_DAY_AT_2AM": "0 0 2 * * *",
    "EVERY_DAY_AT_3AM": "0 0 3 * * *",
    "EVERY_DAY_AT_MIDNIGHT": "0 0 0 * * *",
    "EVERY_DAY_AT_NOON": "0 0 12 * * *",
    "EVERY_WEEK": "0 0 0 * * 0",
    "EVERY_WEEKEND": "0 0 0 * * 6",
    "EVERY_WEEKDAY": "0 0 0 * * 1-5",
    "EVERY_1ST_DAY_OF_MONTH_AT_MIDNIGHT": "0 0 0 1 * *",
    "EVERY_1ST_DAY_OF_MONTH_AT_NOON": "0 0 12 1 * *",
    "EVERY_YEAR": "0 0 0 1 1 *",
}

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


MACHINE_ZONES = ("localtime", "posixrules")  # tzdata files that mean whatever the server's clock says


class ScheduleError(ValueError):
    """The expression cannot be used; the message says why, for the API's 400."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or a :class:`ScheduleError`."""
    try:
        if name in MACHINE_ZONES:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin") from None


def parse_duration(text: str) -> timedelta:
    """``90s``, ``5m``, ``1h30m``, ``2d``, ``250ms`` → timedelta (a bare number is seconds)."""
    raw = text.strip().lower()
    match = _DURATION.match(raw + "s" if raw.isdecimal() else raw)
    if not raw or not match or not any(match.groups()):
        raise ScheduleError(f"bad duration {text!r}; write it like 30s, 5m, 1h30m or 2d")
    d, h, m, s, ms = (int(g) if g else 0 for g in match.groups())
    try:
        duration = timedelta(days=d, hours=h, minutes=m, seconds=s, milliseconds=ms)
    except OverflowError:
        duration = timedelta.max
    if duration > MAX_ONE_TIME_AHEAD:
        raise ScheduleError(f"duration {text.strip()!r} is longer than 10 years")
    return duration


@dataclass(frozen=True)
class Schedule:
    """A parsed expression. ``kind`` is ``cron``, ``interval`` or ``once``."""

    kind: str
    expression: str
    tz: ZoneInfo
    cron: str | None = None  # cron: normalised expression for cronsim (5 or 6 fields)
    interval: timedelta | None = None  # interval: the period
    anchor: datetime | None = None  # interval: counted from here; once: the run time

    @property
    def recurring(self) -> bool:
        return self.kind != "once"

    def next_after(self, after: datetime) -> datetime | None:
        """The first run strictly after ``after`` (aware), in UTC; None when there is none."""
        if self.kind == "once":
            assert self.anchor is not None
            return self.anchor if self.anchor > after else None
        if self.kind == "interval":
            assert self.interval is not None and self.anchor is not None
            if after < self.anchor:
                return self.anchor
            periods = (after - self.anchor) // self.interval + 1
            return self.anchor + periods * self.interval
        assert self.cron is not None
        try:
            local = next(CronSim(self.cron, after.astimezone(self.tz)))
        except StopIteration:
            return None
        return local.astimezone(UTC)

    def first_run(self, now: datetime) -> datetime | None:
        """When a task created (or resumed) at ``now`` runs first."""
        if self.kind == "once":
            return self.anchor
        return self.next_after(now)

    def period(self, around: datetime) -> timedelta | None:
        """The gap between two consecutive runs after ``around`` (the missed-run monitor's budget)."""
        if self.kind == "interval":
            return self.interval
        if self.kind == "once":
            return None
        first = self.next_after(around)
        second = self.next_after(first) if first else None
        return second - first if first and second else None

    def describe(self) -> str:
        """The schedule in words: "every 5 minutes", "once at 2026-12-01 09:00 Europe/Berlin"."""
        if self.kind == "once":
            assert self.anchor is not None
            return f"once at {self.anchor.astimezone(self.tz):%Y-%m-%d %H:%M:%S} {self.tz.key}"
        if self.kind == "interval":
            assert self.interval is not None
            return f"every {_words(self.interval)}"
        assert self.cron is not None
        try:
            text = CronSim(self.cron, datetime.now(self.tz)).explain()
        except Exception:  # explain() is best effort; the expression itself is valid
            text = self.cron
        return f"{text[0].lower()}{text[1:]} ({self.tz.key})"


def _words(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _cron(expression: str, tz: ZoneInfo) -> Schedule:
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ScheduleError(
            f"cron needs 5 fields (m h dom mon dow) or 6 with seconds first, got {len(fields)}: {expression!r}"
        )
    normalised = " ".join(fields)
    try:
        CronSim(normalised, datetime.now(tz))
    except CronSimError as error:
        raise ScheduleError(f"invalid cron expression {expression!r}: {error}") from None
    except (ValueError, KeyError, IndexError):
        raise ScheduleError(f"invalid cron expression {expression!r}") from None
    return Schedule("cron", expression, tz, cron=normalised)


def parse_schedule(
    expression: str, timezone: str = "UTC", *, now: datetime, anchor: datetime | None = None
) -> Schedule:
    """Parse ``expression`` for a task in ``timezone``.

    ``now`` validates one-time runs (not in the past, not absurdly far ahead) and anchors ``now``;
    ``anchor`` (default ``now``) is where ``@every`` intervals and ``@after`` delays count from.
    Raises :class:`ScheduleError` with a message fit for a 400 response.
    """
    tz = zone(timezone)
    text = (expression or "").strip()
    if not text:
        raise ScheduleError("schedule is empty")
    if len(text) > 200:
        raise ScheduleError("schedule is longer than 200 characters")
    start = anchor or now
    lowered = text.lower()
    if lowered == "now":
        return Schedule("once", text, tz, anchor=now)
    if lowered.startswith("@every"):
        interval = parse_duration(text[len("@every") :])
        if interval < MIN_INTERVAL:
            raise ScheduleError("@every needs at least 1s")
        return Schedule("interval", text, tz, interval=interval, anchor=start)
    if lowered.startswith("@after"):
        return Schedule("once", text, tz, anchor=start + parse_duration(text[len("@after") :]))
    name = text.removeprefix("CronExpression.").upper()
    if name in NAMED:
        return Schedule("cron", text, tz, cron=NAMED[name])
    if re.fullmatch(r"[A-Za-z_.0-9]+", text) and not text[0].isdigit():
        raise ScheduleError(f"unknown schedule constant {text!r}; known: {', '.join(sorted(NAMED))}")
    if text[0].isdigit() and " " not in text:  # one token: a datetime (cron has 5 or 6 fields)
        return _one_time(text, tz, now)
    return _cron(text, tz)


def _one_time(text: str, tz: ZoneInfo, now: datetime) -> Schedule:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleError(f"invalid ISO 8601 datetime {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    when = when.astimezone(UTC)
    if when < now - ONE_TIME_PAST_TOLERANCE:
        raise ScheduleError(f"{text!r} is in the past")
    if when > now + MAX_ONE_TIME_AHEAD:
        raise ScheduleError(f"{text!r} is more than 10 years ahead")
    return Schedule("once", text, tz, anchor=when)
