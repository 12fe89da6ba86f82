"""SLA clocks in the desk's read model, a consumed batch at a time.

sla-monitor tells the desk each clock it arms (two per new ticket), stops, warns on or
breaches. Each run of one event type becomes one upsert of ``sla_clocks``, one update of
the tickets' due times and one insert of history lines, whatever its length: handled
one event at a time these were four statements per new ticket, most of the assigner's
CPU per customer message (``python -m tests.bench.assigner_cpu``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.store import DeskStore, ReadModelStore
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import SlaBreached, SlaWarning
from socialdesk_schemas.sla import FollowUpDue, SlaClockArmed, SlaClockStopped

__all__ = ["on_breached", "on_clock_armed", "on_clock_stopped", "on_follow_up_due", "on_warning"]


def _last_per_clock(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (ticket, clock), the last in record order: one upsert cannot touch a row
    twice, and a later event of the same kind supersedes an earlier one."""
    last: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for row in rows:
        last[(row["ticket_id"], row["clock"])] = row
    return list(last.values())


async def _apply(uow: UnitOfWork, rows: Sequence[dict[str, Any]], *, history: Sequence[Any] = ()) -> None:
    read = ReadModelStore(uow)
    await read.set_clocks(_last_per_clock(rows))
    await read.refresh_due({row["ticket_id"] for row in rows})
    if history:
        await DeskStore(uow).add_history(history_rows(history))


async def on_clock_armed(events: list[SlaClockArmed], uow: UnitOfWork) -> None:
    await _apply(
        uow,
        [
            {
                "ticket_id": e.ticket_id,
                "clock": e.clock,
                "state": "armed",
                "due_at": e.due_at,
                "warn_at": e.warn_at,
                "armed_at": e.armed_at,
                "warned_at": None,
                "breached_at": None,
                "stopped_at": None,
            }
            for e in events
        ],
    )


async def on_clock_stopped(events: list[SlaClockStopped], uow: UnitOfWork) -> None:
    await _apply(
        uow,
        [
            {"ticket_id": e.ticket_id, "clock": e.clock, "state": e.outcome, "stopped_at": e.stopped_at}
            for e in events
        ],
        history=events,
    )


async def on_warning(events: list[SlaWarning], uow: UnitOfWork) -> None:
    await _apply(
        uow,
        [
            {
                "ticket_id": e.ticket_id,
                "clock": e.metric,
                "state": "warned",
                "due_at": e.deadline,
                "warned_at": e.occurred_at,
            }
            for e in events
        ],
        history=events,
    )


async def on_breached(events: list[SlaBreached], uow: UnitOfWork) -> None:
    await _apply(
        uow,
        [
            {
                "ticket_id": e.ticket_id,
                "clock": e.metric,
                "state": "breached",
                "due_at": e.deadline,
                "breached_at": e.breached_at,
            }
            for e in events
        ],
        history=events,
    )


async def on_follow_up_due(events: list[FollowUpDue], uow: UnitOfWork) -> None:
    """A promised follow-up is due and not kept: the ticket's history says so."""
    await DeskStore(uow).add_history(history_rows(events))
