"""Open-hours arithmetic: when a clock that counts only a calendar's open hours is due.

A brand staffed on business hours promises its targets in open time (issue 12: a message
on Friday evening is due on Monday morning when the brand is closed at weekends). A
calendar is weekly windows in an IANA time zone, minus holidays; ``None`` is 24/7.

Each local day's windows are turned into UTC instants separately, so a day with a
daylight-saving change is as long as it really is (an 08:00-20:00 window is 11 or 13
hours on the night the clocks move, and a clock counts exactly that). Everything here
is pure: instants in, instants out.

Usage::

    due = due_after(calendar, received_at, 2 * 3600)       # 2 open hours after intake
    left = open_seconds(calendar, paused_at, deadline)      # open time left at a pause
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from socialdesk_runtime.config import BusinessCalendar
from socialdesk_runtime.config.types import WEEKDAYS

__all__ = ["due_after", "longest_gap_seconds", "open_seconds", "open_spans"]

# A calendar with no open hour in this many days is refused by the configuration; this
# bound only keeps a bad value from looping forever.
_HORIZON_DAYS = 800
_DAY = timedelta(days=1)


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def open_spans(calendar: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """The open windows of one local ``day`` as UTC instants (none on a holiday)."""
    if day in calendar.holidays:
        return []
    zone = _zone(calendar.timezone)
    spans = []
    for window in calendar.hours.get(WEEKDAYS[day.weekday()], []):
        start = datetime.combine(day, window.start, tzinfo=zone)
        # An end of 24:00 is stored as time.max: open until the next local midnight.
        end = (
            datetime.combine(day + _DAY, time(0), tzinfo=zone)
            if window.end == time.max
            else datetime.combine(day, window.end, tzinfo=zone)
        )
        spans.append((start.astimezone(UTC), end.astimezone(UTC)))
    return sorted(spans)


def _spans_from(calendar: BusinessCalendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open spans that end after ``start``, clipped to begin no earlier than it, in order."""
    day = start.astimezone(_zone(calendar.timezone)).date() - _DAY  # a span may cross midnight
    for _ in range(_HORIZON_DAYS):
        for begin, end in open_spans(calendar, day):
            if end > start:
                yield max(begin, start), end
        day += _DAY
    raise ValueError(f"calendar in {calendar.timezone} has no open hour in {_HORIZON_DAYS} days")


def _aware(at: datetime) -> datetime:
    """``at`` in UTC: adding to a datetime in a zone with daylight saving adds wall time."""
    if at.tzinfo is None:
        raise ValueError("open-hours arithmetic needs aware datetimes")
    return at.astimezone(UTC)


def due_after(calendar: BusinessCalendar | None, start: datetime, seconds: float) -> datetime:
    """The instant when ``seconds`` of open time have passed since ``start``.

    Closed at ``start``, the clock starts at the next opening; a target that ends exactly
    at a closing time is due then, not at the next opening.
    """
    start = _aware(start)
    if calendar is None:
        return start + timedelta(seconds=seconds)
    remaining = timedelta(seconds=seconds)
    for begin, end in _spans_from(calendar, start):
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable: _spans_from raises at its horizon")  # pragma: no cover


def open_seconds(calendar: BusinessCalendar | None, start: datetime, end: datetime) -> float:
    """Open time between two instants, in seconds (0 when ``end`` is not after ``start``)."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds()
    total = timedelta(0)
    for begin, stop in _spans_from(calendar, start):
        if begin >= end:
            break
        total += min(stop, end) - begin
    return total.total_seconds()


def longest_gap_seconds(calendar: BusinessCalendar) -> float:
    """The longest closed stretch of the calendar's ordinary week (holidays aside), in
    seconds of local wall time; a week with no open hour at all is one long gap."""
    minute_of_week = []
    for i, name in enumerate(WEEKDAYS):
        for window in calendar.hours.get(name, []):
            start = i * 1440 + window.start.hour * 60 + window.start.minute
            end = (
                (i + 1) * 1440
                if window.end == time.max
                else i * 1440 + window.end.hour * 60 + window.end.minute
            )
            minute_of_week.append((start, end))
    if not minute_of_week:
        return 7 * 86400.0
    minute_of_week.sort()
    gaps = []
    reach = minute_of_week[0][1]
    for start, end in minute_of_week[1:]:
        if start > reach:
            gaps.append(start - reach)
        reach = max(reach, end)
    # Around the week's end: from the last closing to the first opening next week.
    gaps.append(minute_of_week[0][0] + 7 * 1440 - reach)
    return max(gaps) * 60.0
