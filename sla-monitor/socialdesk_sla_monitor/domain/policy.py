"""The policy's arithmetic and the ladder: SLA targets, business hours, who is next.

Pure functions over the configuration's data (:mod:`socialdesk_runtime.config`) and the
contract's ladder (:data:`socialdesk_schemas.LADDER`, the only ordering of levels).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import datetime, time

from socialdesk_runtime.config import Agent, BusinessCalendar, SlaPolicy, SlaTargets, SocialdeskConfig
from socialdesk_runtime.config.types import WEEKDAYS, SlaMetric
from socialdesk_schemas import LADDER, Level, Platform, Priority

__all__ = ["breach_from", "escalation_target", "is_open", "next_rung", "on_call", "rank", "target_seconds"]

# --- SLA targets ------------------------------------------------------------------------


def _default(policy: SlaPolicy, metric: SlaMetric) -> float:
    return {
        "first_response": policy.first_response_seconds,
        "next_response": policy.next_response_seconds,
        "resolution": policy.resolution_seconds,
    }[metric]


def _override(targets: SlaTargets, metric: SlaMetric) -> float | None:
    return {
        "first_response": targets.first_response_seconds,
        "next_response": targets.next_response_seconds,
        "resolution": targets.resolution_seconds,
    }[metric]


def target_seconds(
    policy: SlaPolicy, metric: SlaMetric, priority: Priority, platform: Platform, *, hot_topic: bool = False
) -> float:
    """Seconds allowed for ``metric`` on a ticket of this priority and platform.

    Overrides by priority and by platform are both promises, so when both apply the
    stricter (shorter) one wins; a hot topic multiplies the target by ``hot_topic_factor``
    because one slow answer is then seen by many.
    """
    overrides = [
        value
        for targets in (policy.by_priority.get(priority), policy.by_platform.get(platform))
        if targets is not None and (value := _override(targets, metric)) is not None
    ]
    seconds = float(min(overrides, default=_default(policy, metric)))
    return seconds * policy.hot_topic_factor if hot_topic else seconds


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
