"""Who is at the desk: presence (online, away, offline) over the configured start state, and
shifts (working hours in the agent's timezone)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

from socialdesk_runtime.config import Agent
from socialdesk_runtime.config.desk import Shift
from socialdesk_runtime.config.types import WEEKDAYS

__all__ = ["Presence", "available", "on_shift"]

Presence = Literal["online", "away", "offline"]


def on_shift(shift: Shift | None, now: datetime) -> bool:
    """Whether ``now`` falls in the shift's hours (no shift: always)."""
    if shift is None:
        return True
    local = now.astimezone(zoneinfo.ZoneInfo(shift.timezone))
    windows = shift.hours.get(WEEKDAYS[local.weekday()], [])
    t = local.time()
    return any(
        w.start <= t < w.end or (w.end.hour == 23 and w.end.minute == 59 and t >= w.start) for w in windows
    )


def available(
    agents: Iterable[Agent], presence: Mapping[str, str], shifts: Mapping[str, Shift], now: datetime
) -> set[str]:
    """The agents new work may go to: online (as set at the desk, else as configured) and on shift."""
    out = set()
    for agent in agents:
        status = presence.get(agent.id, "online" if agent.online else "offline")
        if status == "online" and on_shift(shifts.get(agent.id), now):
            out.add(agent.id)
    return out
