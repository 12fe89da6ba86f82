"""The managers' reports and cockpit, computed in PostgreSQL over the desk's tables."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, literal, select

from socialdesk_assigner.domain.views import OPEN_STATES
from socialdesk_assigner.tables import (
    history,
    incident_groups,
    replies,
    sla_clocks,
    spikes,
    tickets,
    tickets_with_trends,
)
from socialdesk_runtime.db import UnitOfWork

__all__ = ["By", "ReportStore"]

By = Literal["agent", "brand", "platform"]


def _key(by: By) -> ColumnElement[Any]:
    if by == "agent":
        return func.coalesce(tickets.c.agent_id, literal("unassigned"))
    return tickets.c.brand if by == "brand" else tickets.c.platform


def _seconds(later: Any, earlier: Any) -> ColumnElement[Any]:
    return func.extract("epoch", later - earlier)


class ReportStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def summary(
        self, *, by: By, since: datetime, until: datetime, brands: Collection[str] | None
    ) -> dict[str, dict[str, Any]]:
        key = _key(by)
        scope = [] if brands is None else [tickets.c.brand.in_(sorted(brands))]
        out: dict[str, dict[str, Any]] = {}

        def row(k: str) -> dict[str, Any]:
            return out.setdefault(
                k,
                {
                    "key": k,
                    "handled": 0,
                    "replies": 0,
                    "first_response_median_s": None,
                    "first_response_p90_s": None,
                    "resolution_median_s": None,
                    "resolution_p90_s": None,
                    "sla_breaches": 0,
                    "root_causes": {},
                },
            )

        resolved = and_(tickets.c.resolved_at >= since, tickets.c.resolved_at < until, *scope)
        res = _seconds(tickets.c.resolved_at, tickets.c.received_at)
        for r in await self._uow.conn.execute(
            select(
                key.label("k"),
                func.count().label("n"),
                func.percentile_cont(0.5).within_group(res).label("med"),
                func.percentile_cont(0.9).within_group(res).label("p90"),
            )
            .where(resolved)
            .group_by(key)
        ):
            row(r.k).update(handled=r.n, resolution_median_s=_round(r.med), resolution_p90_s=_round(r.p90))

        frt = _seconds(tickets.c.first_response_at, tickets.c.received_at)
        for r in await self._uow.conn.execute(
            select(
                key.label("k"),
                func.percentile_cont(0.5).within_group(frt).label("med"),
                func.percentile_cont(0.9).within_group(frt).label("p90"),
            )
            .where(
                tickets.c.received_at >= since,
                tickets.c.received_at < until,
                tickets.c.first_response_at.is_not(None),
                *scope,
            )
            .group_by(key)
        ):
            row(r.k).update(first_response_median_s=_round(r.med), first_response_p90_s=_round(r.p90))

        reply_key = replies.c.agent_id if by == "agent" else key
        for r in await self._uow.conn.execute(
            select(reply_key.label("k"), func.count().label("n"))
            .select_from(replies.join(tickets, tickets.c.ticket_id == replies.c.ticket_id))
            .where(
                replies.c.created_at >= since,
                replies.c.created_at < until,
                replies.c.status.not_in(("pending_approval", "rejected")),
                *scope,
            )
            .group_by(reply_key)
        ):
            row(r.k)["replies"] = r.n

        # Breaches from the ticket's history, one line per breach (a clock re-armed later
        # keeps its earlier breach), each against whoever owned the ticket when it breached
        # (the line's actor: the escalation that follows gives the ticket to someone else;
        # none while it waited in the queue).
        breach_key = func.coalesce(history.c.actor, literal("unassigned")) if by == "agent" else key
        for r in await self._uow.conn.execute(
            select(breach_key.label("k"), func.count().label("n"))
            .select_from(history.join(tickets, tickets.c.ticket_id == history.c.ticket_id))
            .where(history.c.kind == "SlaBreached", history.c.at >= since, history.c.at < until, *scope)
            .group_by(breach_key)
        ):
            row(r.k)["sla_breaches"] = r.n

        category = case(
            (tickets.c.root_cause.like("auto_reply:%"), literal("auto_reply")),
            (tickets.c.root_cause.contains(": "), func.split_part(tickets.c.root_cause, ": ", 1)),
            else_=literal("uncategorised"),
        )
        for r in await self._uow.conn.execute(
            select(key.label("k"), category.label("c"), func.count().label("n"))
            .where(resolved)
            .group_by(key, category)
        ):
            row(r.k)["root_causes"][r.c] = r.n
        return dict(sorted(out.items()))

    async def cockpit(
        self, *, brands: Collection[str] | None, now: datetime, stalled_before: datetime
    ) -> dict[str, Any]:
        """Open, waiting, answered, pending, stalled and at-risk counts by brand, channel and
        agent; SLA compliance; the last day's spikes (hot topics: :meth:`hot_topics`)."""
        scope = [] if brands is None else [tickets.c.brand.in_(sorted(brands))]
        open_ = tickets.c.status.in_(OPEN_STATES)
        state = case(
            (tickets.c.status == "pending", literal("pending")),
            (tickets.c.sla_state == "breached", literal("breached")),
            (tickets.c.sla_state == "warned", literal("at_risk")),
            (tickets.c.agent_id.is_(None), literal("waiting")),
            (
                and_(tickets.c.last_activity_at.is_not(None), tickets.c.last_activity_at < stalled_before),
                literal("stalled"),
            ),
            (tickets.c.first_response_at.is_not(None), literal("answered")),
            else_=literal("in_progress"),
        )
        counts: dict[str, dict[str, dict[str, int]]] = {"brand": {}, "platform": {}, "agent": {}}
        for dim, col in (
            ("brand", tickets.c.brand),
            ("platform", tickets.c.platform),
            ("agent", func.coalesce(tickets.c.agent_id, literal("unassigned"))),
        ):
            for r in await self._uow.conn.execute(
                select(col.label("k"), state.label("s"), func.count().label("n"))
                .where(open_, tickets.c.queue == "cx", *scope)
                .group_by(col, state)
            ):
                counts[dim].setdefault(r.k, {})[r.s] = r.n
        # A clock that breached stays breached for the tally when the ticket is then resolved
        # without an answer (sla-monitor cancels it): resolving must not improve compliance.
        judged_state = case(
            (
                sla_clocks.c.breached_at.is_not(None) & (sla_clocks.c.state == "cancelled"),
                literal("breached"),
            ),
            else_=sla_clocks.c.state,
        )
        met = (
            await self._uow.conn.execute(
                select(judged_state.label("state"), func.count().label("n"))
                .select_from(sla_clocks.join(tickets, tickets.c.ticket_id == sla_clocks.c.ticket_id))
                .where(judged_state.in_(("met", "met_late", "breached")), *scope)
                .group_by(judged_state)
            )
        ).all()
        tally = {r.state: r.n for r in met}
        judged = sum(tally.values())
        recent = await self._uow.conn.execute(
            select(spikes)
            .where(
                spikes.c.at >= now - timedelta(hours=24),
                *([] if brands is None else [spikes.c.brand.in_(sorted(brands))]),
            )
            .order_by(spikes.c.at.desc())
            .limit(10)
        )
        return {
            "spikes": [
                {
                    "brand": s.brand,
                    "severity": s.severity,
                    "volume": s.volume,
                    "baseline_volume": round(s.baseline_volume, 1),
                    "negative_share": round(s.negative_share, 3),
                    "at": s.at,
                }
                for s in recent
            ],
            "by_brand": counts["brand"],
            "by_platform": counts["platform"],
            "by_agent": counts["agent"],
            "sla": {
                "met": tally.get("met", 0),
                "met_late": tally.get("met_late", 0),
                "breached": tally.get("breached", 0),
                "compliance": None if not judged else round(tally.get("met", 0) / judged, 4),
            },
        }

    async def hot_topics(self, *, brands: Collection[str] | None) -> list[dict[str, Any]]:
        """The ten incident groups with the most open tickets, with their trend."""
        scope = [] if brands is None else [tickets.c.brand.in_(sorted(brands))]
        groups = await self._uow.conn.execute(
            select(
                tickets.c.brand,
                tickets.c.group_id,
                func.count().label("n"),
                func.max(incident_groups.c.volume).label("volume"),
                func.max(incident_groups.c.sample_text).label("sample"),
            )
            .select_from(tickets_with_trends)
            .where(tickets.c.group_id.is_not(None), tickets.c.status.in_(OPEN_STATES), *scope)
            .group_by(tickets.c.brand, tickets.c.group_id)
            .order_by(func.count().desc())
            .limit(10)
        )
        return [
            {
                "brand": g.brand,
                "group_id": g.group_id,
                "open_tickets": g.n,
                "volume": g.volume,
                "sample_text": g.sample,
            }
            for g in groups
        ]


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
