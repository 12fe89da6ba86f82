"""Desk work on plain data: pending, reopen, hand-off, follow-ups, notes, escalation,
dispatch and release; approvals; shifts; routing preferences; placeholders; queue scope."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_assigner.domain import Forbidden, InvalidTransition, Ticket, Unprocessable
from socialdesk_assigner.domain.approvals import check_may_review, hold_reason
from socialdesk_assigner.domain.desk import (
    add_note,
    dispatch,
    escalate,
    hand_off,
    pend,
    promise_follow_up,
    release,
    reopen_by_agent,
)
from socialdesk_assigner.domain.presence import available, on_shift
from socialdesk_assigner.domain.replies import fill, saved_replies_for
from socialdesk_assigner.domain.routing import Needs, preferred
from socialdesk_assigner.domain.ticket import follow_up
from socialdesk_assigner.domain.views import describe, queue_scope
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_runtime.config.desk import Approvals, Shift
from socialdesk_schemas import MessageClassified, TicketAssigned, TicketEscalated, TicketQueued
from socialdesk_schemas.desk import FollowUpPromised, InternalNoteAdded, TicketPending, TicketReopened

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
AgentOf = Callable[[str], Agent]
TicketFactory = Callable[..., Ticket]
MessageFactory = Callable[..., MessageClassified]


def test_pending_waits_on_the_customer_and_their_message_reopens_it(
    ticket: TicketFactory, agent: AgentOf, message: MessageFactory
) -> None:
    t = ticket(status="assigned", agent_id="ana")
    step = pend(t, agent("ana"), reason="asked for booking number", now=NOW)
    (event,) = step.events
    assert isinstance(event, TicketPending)
    assert (step.ticket.status, event.reason) == ("pending", "asked for booking number")
    with pytest.raises(InvalidTransition):
        pend(step.ticket, agent("ana"), reason="", now=NOW)
    with pytest.raises(Forbidden):
        pend(t, agent("ben"), reason="", now=NOW)
    back = follow_up(step.ticket, message(ticket_id=t.ticket_id), now=NOW)
    (reopened,) = back.events
    assert isinstance(reopened, TicketReopened)
    assert (back.ticket.status, reopened.reason) == ("assigned", "customer_wrote")


def test_an_agent_reopens_a_resolved_ticket_and_owns_it(ticket: TicketFactory, agent: AgentOf) -> None:
    t = ticket(status="resolved", agent_id="ana", root_cause="x", resolved_at=NOW)
    with pytest.raises(Forbidden):  # a colleague's ticket: only its owner or a lead
        reopen_by_agent(t, agent("ben"), now=NOW)
    assert reopen_by_agent(t, agent("ana"), now=NOW).ticket.agent_id == "ana"
    step = reopen_by_agent(t, agent("lead"), now=NOW)
    reopened, assigned = step.events
    assert isinstance(reopened, TicketReopened) and reopened.reason == "agent"
    assert isinstance(assigned, TicketAssigned) and assigned.previous_agent_id == "ana"
    assert (step.ticket.status, step.ticket.agent_id, step.ticket.root_cause) == ("assigned", "lead", None)
    with pytest.raises(InvalidTransition):
        reopen_by_agent(step.ticket, agent("lead"), now=NOW)


def test_hand_off_needs_a_colleague_of_the_brand(ticket: TicketFactory, agent: AgentOf) -> None:
    t = ticket(status="assigned", agent_id="ana")
    step = hand_off(t, agent("ana"), agent("ben"), now=NOW)
    (event,) = step.events
    assert isinstance(event, TicketAssigned)
    assert (event.agent_id, event.previous_agent_id, event.reason) == ("ben", "ana", "reassigned")
    with pytest.raises(Forbidden, match="brand"):
        hand_off(t, agent("ana"), agent("hugo"), now=NOW)
    with pytest.raises(InvalidTransition):
        hand_off(t, agent("ana"), agent("ana"), now=NOW)
    with pytest.raises(Forbidden, match="claim"):
        hand_off(ticket(), agent("ana"), agent("ben"), now=NOW)
    lead = hand_off(ticket(), agent("lead"), agent("ben"), now=NOW)
    assert lead.ticket.status == "assigned"


def test_no_hand_off_to_someone_offline(ticket: TicketFactory, agent: AgentOf) -> None:
    t = ticket(status="assigned", agent_id="ana")
    with pytest.raises(InvalidTransition, match="offline"):
        hand_off(t, agent("lead"), agent("ben"), now=NOW, to_presence="offline")
    # away for a moment is still at work; taking it oneself is always possible
    assert hand_off(t, agent("lead"), agent("ben"), now=NOW, to_presence="away").ticket.agent_id == "ben"
    assert hand_off(t, agent("lead"), agent("lead"), now=NOW, to_presence="offline").ticket.agent_id == "lead"


def test_follow_up_and_notes(ticket: TicketFactory, agent: AgentOf) -> None:
    t = ticket(status="assigned", agent_id="ana")
    step = promise_follow_up(
        t, agent("ana"), follow_up_id=uuid.uuid4(), due_at=NOW + timedelta(hours=2), note="", now=NOW
    )
    assert isinstance(step.events[0], FollowUpPromised)
    with pytest.raises(InvalidTransition):
        promise_follow_up(t, agent("ana"), follow_up_id=uuid.uuid4(), due_at=NOW, note="", now=NOW)
    note = add_note(t, agent("ben"), note_id=uuid.uuid4(), text="VIP", now=NOW)  # any colleague may note
    assert isinstance(note.events[0], InternalNoteAdded)
    with pytest.raises(Forbidden):
        add_note(t, agent("hugo"), note_id=uuid.uuid4(), text="x", now=NOW)


def _escalated(t: Ticket, to: str | None) -> TicketEscalated:
    return TicketEscalated(
        producer="sla-monitor",
        occurred_at=NOW,
        ticket_id=t.ticket_id,
        correlation_id=t.correlation_id,
        brand=t.brand,
        platform=t.platform,
        priority=t.priority,
        from_level="L1",
        to_level="L3",
        to_agent_id=to,
        reason="breach",
    )


def test_escalation_reassigns_or_watches(ticket: TicketFactory, agent: AgentOf) -> None:
    t = ticket(status="assigned", agent_id="ana")
    moved = escalate(t, _escalated(t, "lead"), agent("lead"), policy="reassign", now=NOW)
    (event,) = moved.events
    assert isinstance(event, TicketAssigned) and event.reason == "escalation"
    assert (moved.ticket.agent_id, moved.ticket.escalation_level) == ("lead", "L3")
    watched = escalate(t, _escalated(t, "lead"), agent("lead"), policy="watch", now=NOW)
    assert (watched.events, watched.ticket.agent_id, watched.ticket.watchers) == ((), "ana", ("lead",))
    nobody = escalate(t, _escalated(t, None), None, policy="reassign", now=NOW)
    assert (nobody.events, nobody.ticket.escalation_level) == ((), "L3")


def test_dispatch_and_release(ticket: TicketFactory, agent: AgentOf) -> None:
    waiting = ticket()
    step = dispatch(waiting, agent("ben"), reason="round_robin", now=NOW)
    assert (step.ticket.status, step.ticket.agent_id) == ("assigned", "ben")
    back = release(step.ticket, reason="ben went offline", now=NOW)
    (event,) = back.events
    assert isinstance(event, TicketQueued) and event.reason == "ben went offline"
    assert (back.ticket.status, back.ticket.agent_id) == ("open", None)
    with pytest.raises(InvalidTransition):
        release(waiting, reason="", now=NOW)


def test_approvals_hold_configured_replies_and_never_self_approval(
    ticket: TicketFactory, agent: AgentOf
) -> None:
    rules = Approvals(categories=["legal"], new_agents=["ana"], min_approver_level="L2")
    assert hold_reason(rules, agent("ana"), ticket()) is not None
    assert hold_reason(rules, agent("ben"), ticket(category="legal")) is not None
    assert hold_reason(rules, agent("ben"), ticket()) is None
    t = ticket(status="assigned", agent_id="ben")
    with pytest.raises(InvalidTransition, match="own"):
        check_may_review(rules, agent("ben"), author_id="ben", ticket=t, status="pending_approval")
    with pytest.raises(Forbidden, match="L2"):
        check_may_review(rules, agent("cid"), author_id="ben", ticket=t, status="pending_approval")
    with pytest.raises(InvalidTransition):
        check_may_review(rules, agent("dee"), author_id="ben", ticket=t, status="requested")
    check_may_review(rules, agent("dee"), author_id="ben", ticket=t, status="pending_approval")


def test_shifts_and_presence(agent: AgentOf) -> None:
    shift = Shift.model_validate({"timezone": "Asia/Jakarta", "hours": {"mon": ["08:00-16:00"]}})
    assert not on_shift(shift, NOW)  # 10:00 UTC is 17:00 in Jakarta, after the shift
    assert on_shift(None, NOW)
    monday_9_jakarta = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert on_shift(shift, monday_9_jakarta)
    assert not on_shift(shift, monday_9_jakarta + timedelta(days=1))
    agents = [agent("ana"), agent("ben"), agent("cid")]
    assert available(agents, {}, {}, NOW) == {"ana", "ben"}  # cid is configured offline
    assert available(agents, {"ana": "away", "cid": "online"}, {}, NOW) == {"ben", "cid"}
    assert available(agents, {}, {"ben": shift}, monday_9_jakarta + timedelta(days=1)) == {"ana"}


def test_routing_prefers_specialists_live_chat_and_language(config: SocialdeskConfig) -> None:
    data = config.model_dump(mode="json", exclude_none=True)
    data["desk"] = {"specialists": {"safety": ["dee"], "legal": ["lead"]}}
    for a in data["agents"]:
        if a["id"] == "ben":
            a["skills"] = ["live-chat"]
            a["languages"] = ["en", "id"]
    cfg = SocialdeskConfig.model_validate(data)
    ids = lambda pools: [[a.id for a in p] for p in pools]  # noqa: E731
    assert ids(preferred(cfg, "ourbus", Needs(category="safety"), None))[0] == ["dee"]
    assert ids(preferred(cfg, "ourbus", Needs(category="legal"), None))[0] == ["lead"]
    assert ids(preferred(cfg, "ourbus", Needs(platform="messenger", kind="dm"), None))[0] == ["ben"]
    assert ids(preferred(cfg, "ourbus", Needs(language="id"), None))[0] == ["ben"]
    assert ids(preferred(cfg, "ourbus", Needs(), {"ana"})) == [["ana"]]


def test_placeholders_are_filled_or_refused_by_name(config: SocialdeskConfig) -> None:
    assert fill("Hi {customer_name}!", {"customer_name": "Maria"}) == "Hi Maria!"
    with pytest.raises(Unprocessable, match="booking_number"):
        fill("Booking {booking_number}", {"customer_name": "Maria"})
    views = saved_replies_for(config, brand="rally", language="es")
    assert [(v.key, v.text) for v in views] == [
        ("luggage", "Un equipaje de mano."),
        ("refunds", "Refunds take 5 days."),
    ]
    assert [v.key for v in saved_replies_for(config, brand="ourbus")] == ["luggage"]


def test_queue_scope_by_level_and_history_lines(agent: AgentOf, ticket: TicketFactory) -> None:
    assert queue_scope(agent("ana")).owner_or_unowned == "ana"
    assert queue_scope(agent("lead")).owner_or_unowned is None
    assert queue_scope(agent("top")).brands is None
    step = release(ticket(status="assigned", agent_id="ana"), reason="gone", now=NOW)
    kind, actor, detail = describe(step.events[0])
    assert (kind, actor) == ("TicketQueued", None)
    assert "reason=gone" in detail
