"""Open-hours arithmetic to the second: weekends, holidays, daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from socialdesk_runtime.config import BusinessCalendar
from socialdesk_sla_monitor.domain.calendar import due_after, longest_gap_seconds, open_seconds

NY = ZoneInfo("America/New_York")
HOUR = 3600.0

WEEKDAYS_9_TO_5 = BusinessCalendar.model_validate(
    {
        "timezone": "America/New_York",
        "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2026-12-25"],
    }
)
SUNDAYS_ALL_DAY = BusinessCalendar.model_validate(
    {"timezone": "America/New_York", "hours": {"sun": ["00:00-24:00"], "mon": ["09:00-17:00"]}}
)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]  # datetime's positional fields


def test_24_7_is_plain_wall_time() -> None:
    start = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    assert due_after(None, start, 7200) == start + timedelta(hours=2)
    assert open_seconds(None, start, start + timedelta(minutes=90)) == 5400


def test_within_open_hours_the_clock_runs_like_a_wall_clock() -> None:
    assert due_after(WEEKDAYS_9_TO_5, ny(2026, 11, 24, 10, 0, 0), 2 * HOUR) == ny(2026, 11, 24, 12, 0, 0)


def test_a_message_on_friday_evening_is_due_on_monday_morning() -> None:
    # 16:30 Friday: 30 min left that day, the other 90 min from 09:00 Monday.
    friday = ny(2026, 11, 20, 16, 30, 0)
    assert due_after(WEEKDAYS_9_TO_5, friday, 2 * HOUR) == ny(2026, 11, 23, 10, 30, 0)
    # Received while closed on Saturday: the clock starts at Monday's opening.
    assert due_after(WEEKDAYS_9_TO_5, ny(2026, 11, 21, 11, 0, 0), 15 * 60) == ny(2026, 11, 23, 9, 15, 0)


def test_a_target_ending_at_closing_time_is_due_at_closing_time() -> None:
    assert due_after(WEEKDAYS_9_TO_5, ny(2026, 11, 24, 15, 0, 0), 2 * HOUR) == ny(2026, 11, 24, 17, 0, 0)
    assert due_after(WEEKDAYS_9_TO_5, ny(2026, 11, 24, 15, 0, 0), 2 * HOUR + 1) == ny(2026, 11, 25, 9, 0, 1)


def test_holidays_are_closed() -> None:
    # Thursday 24 Dec 2026 at 16:00, one open hour left that day; the 25th is a holiday,
    # then a weekend: the rest (1 h) runs from Monday 28 Dec 09:00.
    assert due_after(WEEKDAYS_9_TO_5, ny(2026, 12, 24, 16, 0, 0), 2 * HOUR) == ny(2026, 12, 28, 10, 0, 0)


def test_resolution_within_a_day_counts_three_business_days_of_eight_hours() -> None:
    # 24 open hours = three 8 h days: Wed 10:00 → Mon 10:00 (Sat, Sun closed).
    assert due_after(WEEKDAYS_9_TO_5, ny(2026, 11, 18, 10, 0, 0), 24 * HOUR) == ny(2026, 11, 23, 10, 0, 0)


def test_the_spring_forward_sunday_is_23_hours_long() -> None:
    # 8 March 2026 the clocks jump from 02:00 to 03:00 in New York.
    saturday_night = ny(2026, 3, 7, 23, 0, 0)
    due = due_after(SUNDAYS_ALL_DAY, saturday_night, 24 * HOUR)
    assert due == ny(2026, 3, 9, 10, 0, 0), "23 h on Sunday, the last hour on Monday from 09:00"
    assert open_seconds(SUNDAYS_ALL_DAY, ny(2026, 3, 8, 0, 0, 0), ny(2026, 3, 9, 0, 0, 0)) == 23 * HOUR
    # To the second across the jump: 01:59:59 + 2 s of open time is 03:00:01.
    assert due_after(SUNDAYS_ALL_DAY, ny(2026, 3, 8, 1, 59, 59), 2) == ny(2026, 3, 8, 3, 0, 1)


def test_the_fall_back_sunday_is_25_hours_long() -> None:
    # 1 November 2026 the clocks go back from 02:00 to 01:00.
    start = ny(2026, 11, 1, 0, 0, 0)
    assert open_seconds(SUNDAYS_ALL_DAY, start, ny(2026, 11, 2, 0, 0, 0)) == 25 * HOUR
    assert due_after(SUNDAYS_ALL_DAY, start, 25 * HOUR) == ny(2026, 11, 2, 0, 0, 0)
    # Two hours after midnight UTC-wise is 01:00 the second time (EST).
    due = due_after(SUNDAYS_ALL_DAY, start, 2 * HOUR)
    assert due == datetime(2026, 11, 1, 6, 0, 0, tzinfo=UTC)
    assert due.astimezone(NY).hour == 1


def test_open_seconds_is_the_inverse_of_due_after() -> None:
    start = ny(2026, 11, 20, 16, 30, 0)
    for seconds in (1.0, 1800.0, 5400.0, 30 * HOUR):
        assert open_seconds(WEEKDAYS_9_TO_5, start, due_after(WEEKDAYS_9_TO_5, start, seconds)) == seconds
    assert open_seconds(WEEKDAYS_9_TO_5, ny(2026, 11, 21, 9, 0), ny(2026, 11, 22, 20, 0)) == 0, "weekend"


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_after(WEEKDAYS_9_TO_5, datetime(2026, 11, 24, 10, 0), 60)


def test_the_longest_gap_of_a_week() -> None:
    # Friday 17:00 to Monday 09:00.
    assert longest_gap_seconds(WEEKDAYS_9_TO_5) == 64 * HOUR
    assert longest_gap_seconds(SUNDAYS_ALL_DAY) == (7 + 5 * 24) * HOUR, "Monday 17:00 to Sunday 00:00"
