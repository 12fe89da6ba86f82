"""The policy's arithmetic and the ladder: SLA targets, business hours, who is next.

Pure functions over the configuration's data (:mod:`socialdesk_runtime.config`) and the
contract's ladder (:data:`socialdesk_schemas.LADDER`, the only ordering of levels).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from socialdesk_runtime.config import (
    Agent,
    BusinessCalendar,
    SlaPolicy,
    SlaPolicyRule,
    SlaTargets,
    SocialdeskConfig,
)
from socialdesk_runtime.config.types import TWENTY_FOUR_SEVEN, WEEKDAYS, SlaMetric
from socialdesk_schemas import LADDER, Kind, Level, Platform, Priority
from socialdesk_schemas._events import Category  # not re-exported by the package yet

__all__ = [
    "Facts",
    "breach_from",
    "calendar_for",
    "calendar_named",
    "escalation_target",
    "is_open",
    "next_rung",
    "on_call",
    "rank",
    "start_level",
    "target_seconds",
]

# --- SLA targets ------------------------------------------------------------------------


def _default(policy: SlaPolicy, metric: SlaMetric) -> float:
    return {
        "first_response": policy.first_response_seconds,
        "next_response": policy.next_response_seconds,
        "resolution": policy.resolution_seconds,
    }[metric]


def _override(targets: SlaTargets | SlaPolicyRule, metric: SlaMetric) -> float | None:
    return {
        "first_response": targets.first_response_seconds,
        "next_response": targets.next_response_seconds,
        "resolution": targets.resolution_seconds,
    }[metric]


@dataclass(frozen=True, slots=True)
class Facts:
    """What a ticket is, as far as policies care. Kind and category are ``None`` until
    the ticket's classification has been read (a policy naming them then does not match)."""

    brand: str
    platform: Platform
    priority: Priority
    kind: Kind | None = None
    category: Category | None = None


def _matches(rule: SlaPolicyRule, facts: Facts) -> bool:
    return all(
        wanted is None or value in wanted
        for wanted, value in (
            (rule.brands, facts.brand),
            (rule.platforms, facts.platform),
            (rule.kinds, facts.kind),
            (rule.priorities, facts.priority),
            (rule.categories, facts.category),
        )
    )


def target_seconds(
    policy: SlaPolicy,
    metric: SlaMetric,
    priority: Priority,
    platform: Platform,
    *,
    hot_topic: bool = False,
    facts: Facts | None = None,
) -> float:
    """Seconds allowed for ``metric`` on a ticket of this priority and platform.

    The first entry of ``policies`` that matches the ticket (``facts``) and sets the
    metric wins. Otherwise overrides by priority and by platform are both promises, so
    when both apply the stricter (shorter) one wins. A hot topic multiplies the target by
    ``hot_topic_factor`` because one slow answer is then seen by many.
    """
    facts = facts or Facts(brand="", platform=platform, priority=priority)
    ruled = next(
        (
            value
            for rule in policy.policies
            if (value := _override(rule, metric)) is not None and _matches(rule, facts)
        ),
        None,
    )
    if ruled is not None:
        return ruled * policy.hot_topic_factor if hot_topic else ruled
    overrides = [
        value
        for targets in (policy.by_priority.get(priority), policy.by_platform.get(platform))
        if targets is not None and (value := _override(targets, metric)) is not None
    ]
    seconds = float(min(overrides, default=_default(policy, metric)))
    return seconds * policy.hot_topic_factor if hot_topic else seconds


def calendar_for(config: SocialdeskConfig, facts: Facts) -> str:
    """The hours a ticket's clocks count: the first matching policy's calendar, else the
    brand's business hours (``"24/7"`` or a calendar name)."""
    ruled = next(
        (r.calendar for r in config.sla.policies if r.calendar is not None and _matches(r, facts)), None
    )
    return ruled if ruled is not None else config.brand(facts.brand).business_hours


def calendar_named(config: SocialdeskConfig, name: str) -> BusinessCalendar | None:
    """The calendar of that name; ``None`` for 24/7 (``KeyError`` for a name gone from the file)."""
    return None if name == TWENTY_FOUR_SEVEN else config.sla.calendars[name]


# --- business hours ---------------------------------------------------------------------


def is_open(calendar: BusinessCalendar, at: datetime) -> bool:
    """Whether ``calendar`` is open at the aware instant ``at`` (naive is refused: no guessing)."""
    if at.tzinfo is None:
        raise ValueError("is_open needs an aware datetime")
    local = at.astimezone(zoneinfo.ZoneInfo(calendar.timezone))
    if local.date() in calendar.holidays:
        return False
    windows = calendar.hours.get(WEEKDAYS[local.weekday()], [])
    clock = local.time().replace(tzinfo=None)
    # An end of 24:00 is stored as time.max: open through the day's last instant.
    return any(w.start <= clock < w.end or (w.end == time.max and clock >= w.start) for w in windows)


# --- the ladder -------------------------------------------------------------------------


def rank(level: Level) -> int:
    """A level's height on the contract's ladder (L1 lowest)."""
    return LADDER.index(level)


def next_rung(ladder: Sequence[Level], from_level: Level | None) -> Level:
    """The first rung of ``ladder`` above ``from_level``; the top rung again at the top.

    ``None`` means the ticket had no level yet: it goes to the first rung. A level missing
    from a brand's short ladder is passed over to the next rung above it.
    """
    floor = -1 if from_level is None else rank(from_level)
    return next((step for step in ladder if rank(step) > floor), ladder[-1])


def on_call(agents: Iterable[Agent], brand: str, level: Level) -> Agent | None:
    """Who stands on ``level`` for ``brand``: the first online agent there in file order,
    else the first listed (the L3 brand lead still owns a breach when away), else nobody."""
    staff = [a for a in agents if brand in a.brands and a.level == level]
    return next((a for a in staff if a.online), staff[0] if staff else None)


def escalation_target(
    config: SocialdeskConfig, brand: str, from_level: Level | None
) -> tuple[Level, Agent | None]:
    """The next rung above ``from_level`` on the brand's ladder, and who stands on it."""
    level = next_rung(config.brand(brand).escalation_ladder, from_level)
    return level, on_call(config.agents, brand, level)


def breach_from(owner_level: Level | None) -> Level:
    """The level a breach escalates *from*: the owner's, but never below L2.

    Seed 000: the L3 brand lead answers for timeliness, so a breach of a ticket owned at
    L1 or L2 (or not owned yet) goes to the brand lead at least, and one owned higher
    goes one rung up.
    """
    if owner_level is None or rank(owner_level) < rank("L2"):
        return "L2"
    return owner_level


def start_level(
    config: SocialdeskConfig, brand: str, normal: Level, *, category: str | None, hot: bool
) -> Level:
    """Where a breach escalates to: ``normal``, or higher when the configuration starts
    this kind of ticket higher (``sla.ladder.start_at``: a category, or ``crisis`` for a
    hot topic), on the brand's own ladder (its first rung at or above that level)."""
    start_at = config.sla.ladder.start_at
    keys = {category, "crisis" if hot else None}
    wanted = [level for key, level in start_at.items() if key in keys]
    if not wanted:
        return normal
    highest = max(wanted, key=rank)
    if rank(highest) <= rank(normal):
        return normal
    ladder = config.brand(brand).escalation_ladder
    return next((step for step in ladder if rank(step) >= rank(highest)), ladder[-1])
