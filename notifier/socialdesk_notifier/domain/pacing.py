"""Pacing as slot arithmetic on plain numbers: never faster than a limit, and slower after
the other side said "too fast" (time passed in, in seconds on one clock).

A *lane* is one limit: a Slack channel's posts, the workspace's ``chat.update`` budget, a
platform's sending account. Its ``next_at`` is the earliest start of its next send (the
"theoretical arrival time" of the generic cell rate algorithm): a send asked for at
``now`` gets the slot ``max(now, next_at)``, and the lane moves on by one spacing
(``1 / rate``). A send that may go ``ahead`` (a click's update, at human speed) takes the
slot ``max(now, next_at - ahead)``: it does not wait behind the queue of routine sends,
and the lane still moves on by one spacing, so the long-run rate holds.

An account lane also spaces each recipient (``recipient_interval``; WhatsApp's pair limit)
and keeps the next slot of every recipient whose slot is still ahead. Its rate halves
when the platform throttles it (at most once a second: the 429s answered to sends already
in flight count as one overload), down to 1/64 of the ceiling, and creeps back up by a
tenth per clean send. A throttle also holds the account (or one recipient) until the
back-off ends, so the sends queued behind it wait for it instead of collecting more 429s.

A slot further away than ``max_wait`` is refused and nothing is reserved: the caller
hands its delivery back to be tried at its turn rather than hold the delivery's lease.

The store runs :func:`reserve` as one statement, so every notifier replica on one
database shares each lane (``socialdesk_notifier.pacing_store``; decision 0403).

Usage::

    pace = Pace(ceiling=20.0, recipient_interval=1.0)
    turn, lane = reserve(Lane(), pace, Ask(now=100.0, max_wait=5.0, recipient="r1"))
    # turn.granted: sleep turn.wait, then send; otherwise retry after turn.wait
    lane = throttled(lane, pace, now=100.2, hold=4.0)   # after a 613: rate halved, held 4 s
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

__all__ = ["Ask", "Lane", "Pace", "Turn", "held", "reserve", "sent", "spacing", "throttled"]

#: A rate is never cut below this share of its ceiling.
FLOOR_SHARE: Final = 1 / 64
#: Each clean send raises a cut rate by this factor (up to the ceiling).
RECOVERY: Final = 1.1
#: Throttles within this many seconds of a cut are the same overload: one cut.
CUT_EVERY: Final = 1.0


@dataclass(frozen=True, slots=True)
class Pace:
    """A lane's limit: ``ceiling`` sends a second; ``adaptive`` lanes are cut by throttles."""

    ceiling: float
    recipient_interval: float = 0.0
    adaptive: bool = False


@dataclass(frozen=True, slots=True)
class Lane:
    """A lane's state. ``rate`` is ``None`` until a throttle cuts it (the ceiling)."""

    next_at: float = -math.inf
    rate: float | None = None
    cut_at: float = -math.inf
    #: The next slot of each recipient whose slot is still ahead (keys chosen by the caller).
    recipients: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ask:
    now: float
    max_wait: float
    recipient: str | None = None
    #: How far ahead of the lane's queue this send may go (0: take its turn).
    ahead: float = 0.0


@dataclass(frozen=True, slots=True)
class Turn:
    """``granted``: start the send in ``wait`` seconds. Refused: nothing was reserved, and the
    slot was ``wait`` seconds away. ``rate``: the lane's rate at the time (sends a second)."""

    granted: bool
    wait: float
    rate: float


def rate_of(lane: Lane, pace: Pace) -> float:
    return pace.ceiling if lane.rate is None else min(lane.rate, pace.ceiling)


def spacing(lane: Lane, pace: Pace) -> float:
    """Seconds between two sends' slots on this lane."""
    return 1.0 / rate_of(lane, pace)


def reserve(lane: Lane, pace: Pace, ask: Ask) -> tuple[Turn, Lane]:
    """The slot for one send, and the lane moved past it (unchanged when refused)."""
    slot = max(ask.now, lane.next_at - ask.ahead)
    if ask.recipient is not None:
        slot = max(slot, lane.recipients.get(ask.recipient, ask.now))
    wait = slot - ask.now
    rate = rate_of(lane, pace)
    if wait > ask.max_wait:
        return Turn(granted=False, wait=wait, rate=rate), lane
    recipients = lane.recipients
    if ask.recipient is not None:
        # Only slots still ahead matter: the others are forgotten as the lane moves.
        recipients = {r: at for r, at in recipients.items() if at > ask.now}
        recipients[ask.recipient] = slot + pace.recipient_interval
    moved = replace(lane, next_at=max(lane.next_at, slot) + spacing(lane, pace), recipients=recipients)
    return Turn(granted=True, wait=wait, rate=rate), moved


def throttled(
    lane: Lane,
    pace: Pace,
    *,
    now: float,
    hold: float,
    recipient: str | None = None,
    explicit: bool = False,
) -> Lane:
    """A throttle: hold the recipient (or the whole lane) ``hold`` seconds. ``explicit``: the
    other side said when its window resets (X): waiting for it is enough, the rate is not
    cut; otherwise an adaptive lane's rate is halved, at most once every ``CUT_EVERY``."""
    until = now + hold
    if recipient is not None:
        return replace(
            lane, recipients={**lane.recipients, recipient: max(lane.recipients.get(recipient, until), until)}
        )
    lane = held(lane, now=now, seconds=hold)
    if pace.adaptive and not explicit and now - lane.cut_at >= CUT_EVERY:
        lane = replace(lane, rate=max(pace.ceiling * FLOOR_SHARE, rate_of(lane, pace) / 2), cut_at=now)
    return lane


def held(lane: Lane, *, now: float, seconds: float) -> Lane:
    """No send on this lane for ``seconds`` (the other side said its budget is spent)."""
    return replace(lane, next_at=max(lane.next_at, now + seconds))


def sent(lane: Lane, pace: Pace) -> Lane:
    """A clean send: a cut rate recovers a little."""
    if lane.rate is None or lane.rate >= pace.ceiling:
        return replace(lane, rate=None)
    raised = lane.rate * RECOVERY
    return replace(lane, rate=None if raised >= pace.ceiling else raised)
