"""The ``sla`` section: targets per clock, policies by ticket, calendars, the ladder (issue 12).

Three clocks run per ticket: first response, next response (each customer message after
an answer) and resolution. Their targets come, per clock, from the first ``policies``
entry that matches the ticket (brand, platform, kind, priority, category) and sets that
clock; else from the stricter of ``by_priority`` and ``by_platform``; else from the
defaults. Clocks count the brand's business hours (``brands[].business_hours``) unless a
policy names another calendar (``"24/7"`` for promises kept around the clock).

Defaults follow the seeds: first response within 2 hours (seed 000); queries and
requests resolved within a day, complaints within two (seed 002). A ``policies`` list in
the file replaces the default policies.

Bad input is refused at start with the file's line: an unknown time zone, a calendar
that never opens, a policy that cannot be met (a 24/7 target shorter than the longest
closed stretch of the brand's staffed hours), a ladder rung with no Slack channel.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import date, time
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, field_validator, model_validator

from socialdesk_runtime.config.sections import SlaTargets, TimeWindow
from socialdesk_runtime.config.types import (
    TWENTY_FOUR_SEVEN,
    WEEKDAYS,
    ConfigModel,
    Level,
    Seconds,
    Slug,
    Weekday,
)
from socialdesk_schemas import Kind, Platform, Priority
from socialdesk_schemas._events import Category  # not re-exported by the package yet

if TYPE_CHECKING:
    from socialdesk_runtime.config.model import SocialdeskConfig
    from socialdesk_runtime.config.rules import Location

__all__ = [
    "DEFAULT_POLICIES",
    "BusinessCalendar",
    "SlaLadder",
    "SlaPolicy",
    "SlaPolicyRule",
    "StartHigher",
    "longest_gap_seconds",
    "sla_problems",
]

DAY = 86400.0


class BusinessCalendar(ConfigModel):
    """When a team is staffed: weekly hours in a timezone, minus holidays. Missing days are closed."""

    timezone: str
    hours: dict[Weekday, list[TimeWindow]]
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone such as 'America/New_York'") from None
        return value

    @field_validator("hours")
    @classmethod
    def _opens_sometime(cls, value: dict[Weekday, list[TimeWindow]]) -> dict[Weekday, list[TimeWindow]]:
        # A clock counting the open hours of a calendar that never opens would never be due.
        if not any(value.values()):
            raise ValueError("the calendar is never open: give at least one day an opening window")
        return value


def longest_gap_seconds(calendar: BusinessCalendar) -> float:
    """The longest closed stretch of the calendar's ordinary week (holidays aside), in
    seconds of local wall time."""
    spans = []
    for i, name in enumerate(WEEKDAYS):
        for window in calendar.hours.get(name, []):
            start = i * 1440 + window.start.hour * 60 + window.start.minute
            end = (
                (i + 1) * 1440
                if window.end == time.max
                else i * 1440 + window.end.hour * 60 + window.end.minute
            )
            spans.append((start, end))
    if not spans:
        return 7 * DAY
    spans.sort()
    gaps = []
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start > reach:
            gaps.append(start - reach)
        reach = max(reach, end)
    gaps.append(spans[0][0] + 7 * 1440 - reach)  # from the week's last closing to its first opening
    return max(gaps) * 60.0


class SlaPolicyRule(ConfigModel):
    """Targets for the tickets that match every field given (a field left out matches all)."""

    brands: list[Slug] | None = None
    platforms: list[Platform] | None = None
    kinds: list[Kind] | None = None
    priorities: list[Priority] | None = None
    categories: list[Category] | None = None
    first_response_seconds: Seconds | None = None
    next_response_seconds: Seconds | None = None
    resolution_seconds: Seconds | None = None
    #: Which hours these clocks count: ``"24/7"`` or a calendar name; unset, the brand's.
    calendar: str | None = None

    @model_validator(mode="after")
    def _sets_a_target(self) -> Self:
        values = (self.first_response_seconds, self.next_response_seconds, self.resolution_seconds)
        if all(value is None for value in values) and self.calendar is None:
            raise ValueError("a policy must set at least one *_seconds value or a calendar")
        return self


#: Seed 002: queries and requests are resolved within a day, complaints within two.
DEFAULT_POLICIES: tuple[SlaPolicyRule, ...] = (
    SlaPolicyRule(categories=["query", "request"], resolution_seconds=DAY),
    SlaPolicyRule(categories=["complaint"], resolution_seconds=2 * DAY),
)

#: What can make a breach start higher on the ladder: a ticket category, or a crisis (its
#: incident group is a hot topic).
StartHigher = Category | Literal["crisis"]


class SlaLadder(ConfigModel):
    """How a breach climbs: the next rung after ``rung_delay_seconds`` (unset: one target
    period of the clock, in wall time); some tickets start higher (seed 000: safety and
    legal go to the brand lead or above at once)."""

    rung_delay_seconds: Seconds | None = None
    start_at: dict[StartHigher, Level] = Field(default_factory=dict)


class SlaPolicy(ConfigModel):
    """Response and resolution targets, calendars, the ladder. Defaults follow the seeds.

    Overrides by priority and by platform are both promises, so when both apply the
    stricter (shorter) one wins; a matching entry of ``policies`` wins over both. Hot
    topics (a spike of the same complaint) multiply the target by ``hot_topic_factor``
    because one slow answer is then seen by many.
    """

    first_response_seconds: Seconds = 7200.0
    next_response_seconds: Seconds = 7200.0
    #: Seed 002: complex requests and complaints may take up to two days to resolve.
    resolution_seconds: Seconds = 2 * DAY
    #: A warning goes out when this fraction of the target has elapsed.
    warn_at_fraction: float = Field(default=0.75, gt=0, lt=1, allow_inf_nan=False)
    hot_topic_factor: float = Field(default=0.5, gt=0, le=1, allow_inf_nan=False)
    by_priority: dict[Priority, SlaTargets] = Field(default_factory=dict)
    by_platform: dict[Platform, SlaTargets] = Field(default_factory=dict)
    policies: list[SlaPolicyRule] = Field(default_factory=lambda: list(DEFAULT_POLICIES))
    calendars: dict[Slug, BusinessCalendar] = Field(default_factory=dict)
    ladder: SlaLadder = SlaLadder()


def _targets(rule: SlaPolicyRule | SlaTargets) -> Iterator[tuple[str, float]]:
    for name in ("first_response_seconds", "next_response_seconds", "resolution_seconds"):
        value = getattr(rule, name)
        if value is not None:
            yield name, value


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h"


def sla_problems(cfg: SocialdeskConfig) -> Iterator[tuple[Location, str]]:
    """Rules of the ``sla`` section that span sections: calendars and brands named by
    policies exist, 24/7 promises fit the brand's staffed hours, every rung a breach can
    start at has a Slack channel."""
    sla = cfg.sla
    known_calendars = [TWENTY_FOUR_SEVEN, *sla.calendars]
    brand_ids = [b.id for b in cfg.brands]
    for i, rule in enumerate(sla.policies):
        here: Location = ("sla", "policies", i)
        if rule.calendar is not None and rule.calendar not in known_calendars:
            yield (
                (*here, "calendar"),
                f"unknown calendar {rule.calendar!r}; use one of {', '.join(known_calendars)}",
            )
        for j, brand_id in enumerate(rule.brands or []):
            if brand_id not in brand_ids:
                yield (*here, "brands", j), f"unknown brand {brand_id!r}; brands are {', '.join(brand_ids)}"
        if rule.calendar != TWENTY_FOUR_SEVEN:
            continue
        # Counted around the clock while nobody is staffed: breached every night, whatever anyone does.
        for brand in cfg.brands:
            staffed = sla.calendars.get(brand.business_hours)
            if staffed is None or (rule.brands is not None and brand.id not in rule.brands):
                continue
            gap = longest_gap_seconds(staffed)
            for name, seconds in _targets(rule):
                if seconds < gap:
                    yield (
                        (*here, name),
                        f"{_hours(seconds)} counted 24/7 cannot be met by brand {brand.id!r}: its "
                        f"calendar {brand.business_hours!r} is closed for up to {_hours(gap)} at a "
                        "stretch; count open hours (leave calendar out) or give a longer target",
                    )
    for key, level in sla.ladder.start_at.items():
        for brand in cfg.brands:
            if level in brand.escalation_ladder and level not in brand.slack_channels:
                yield (
                    ("sla", "ladder", "start_at", key),
                    f"{key} breaches start at {level}, but brand {brand.id!r} has no {level} Slack "
                    f"channel (brands[{brand_ids.index(brand.id)}].slack_channels): nobody would be paged",
                )
