"""One thread per ticket per Slack channel (issue 11 item 2), as a pure decision.

The first delivery of a ticket to a channel that reaches the sender becomes the thread's
parent (the thread row names it, written under that delivery's lease); every later one
replies in the thread once the parent's ts is known. A parent that was given up on (or
folded into a digest) hands the thread to the next delivery.

Usage::

    step = thread_step(row, delivery_id)  # Parent() | Posted(ts) | Reply(ts) | Wait()
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

__all__ = ["GONE", "Parent", "Posted", "Reply", "ThreadRow", "Wait", "thread_step"]

#: Statuses of a parent delivery that will never post: the thread passes on.
GONE = frozenset({"failed", "digested"})


@dataclass(frozen=True, slots=True)
class ThreadRow:
    parent_delivery_id: uuid.UUID
    parent_ts: str | None
    parent_status: str | None  # the parent delivery's status (None: row gone)


@dataclass(frozen=True, slots=True)
class Parent:
    """Post at top level; this delivery is (or becomes) the thread's parent."""

    take_over: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    thread_ts: str


@dataclass(frozen=True, slots=True)
class Posted:
    """This delivery is the parent and its post is already known: nothing to send again."""

    ts: str


@dataclass(frozen=True, slots=True)
class Wait:
    """The parent is not posted yet: try again shortly (nothing was sent)."""


def thread_step(row: ThreadRow | None, delivery_id: uuid.UUID) -> Parent | Posted | Reply | Wait:
    if row is None:
        return Parent()
    if row.parent_ts is not None:
        return Reply(row.parent_ts) if row.parent_delivery_id != delivery_id else Posted(row.parent_ts)
    if row.parent_delivery_id == delivery_id:
        return Parent()
    if row.parent_status is None or row.parent_status in GONE:
        return Parent(take_over=True)
    return Wait()
