"""What agents do at the desk: who may act, reply, claim, resolve (plain data, no IO)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_assigner.domain import (
    AlreadyResolved,
    Forbidden,
    InvalidTransition,
    Ticket,
    check_may_act,
    claim,
    may_see,
    reply,
    reply_id_for,
    resolve,
)
from socialdesk_assigner.domain.desk import add_note
from socialdesk_assigner.domain.errors import Unprocessable
from socialdesk_assigner.domain.permissions import rank
from socialdesk_assigner.domain.ticket import assign, reopen, root_cause_of
from socialdesk_runtime.config import Agent
from socialdesk_schemas import (
    LADDER,
    AgentReplied,
    MessageClassified,
    ReplyRequested,
    TicketAssigned,
    TicketResolved,
)

MessageFactory = Callable[..., MessageClassified]
TicketFactory = Callable[..., Ticket]
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

AgentOf = Callable[[str], Agent]
LATER = NOW + timedelta(minutes=5)


# --- permissions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "owner", "allowed"),
    [
        ("ana", "ana", True),  # her own
        ("ana", None, True),  # the unowned queue of her brand
        ("ana", "ben", False),  # a peer's
        ("dee", "ana", False),  # an L2 works her own tickets and the queue, not an L1's
        ("lead", "ana", True),  # the brand lead: every ticket of the brand
        ("mgr", "lead", True),  # the brand manager too
        ("hugo", None, False),  # another brand's queue
        ("lia", "ana", False),  # another brand's lead
        ("top", "ana", True),  # TMT: every ticket, whatever brands it lists
    ],
)
def test_who_may_act_on_which_ticket(
    agent: AgentOf, ticket: TicketFactory, who: str, owner: str | None, allowed: bool
) -> None:
    t = ticket(agent_id=owner, status="assigned" if owner else "open")
    if allowed:
        check_may_act(agent(who), t)
    else:
        with pytest.raises(Forbidden):
            check_may_act(agent(who), t)


def test_everyone_sees_their_brands_tickets_and_tmt_sees_all(agent: AgentOf, ticket: TicketFactory) -> None:
    ourbus = ticket(agent_id="ana", status="assigned")
    assert may_see(agent("ben"), ourbus)
    assert not may_see(agent("hugo"), ourbus)
    assert may_see(agent("top"), ourbus)


def test_levels_rank_by_the_contracts_ladder() -> None:
    assert [rank(level) for level in LADDER] == [0, 1, 2, 3, 4]


# --- reply and claim ----------------------------------------------------------------------


def test_the_owners_first_reply_is_the_first_response_and_asks_for_a_send(
    agent: AgentOf, ticket: TicketFactory
) -> None:
    t = ticket(status="assigned", agent_id="ana", last_platform_message_id="m-9")
    rid = uuid.uuid4()
    step = reply(t, agent("ana"), reply_id=rid, text="On it", now=NOW)
    replied, requested = step.events
    assert isinstance(replied, AgentReplied)
    assert (replied.reply_id, replied.is_first_response, replied.replied_at) == (rid, True, NOW)
    assert isinstance(requested, ReplyRequested)
    assert (requested.text, requested.origin, requested.agent_id) == ("On it", "agent", "ana")
    assert requested.in_reply_to_platform_message_id == "m-9"
    assert (replied.correlation_id, replied.causation_id) == (t.correlation_id, None)
    assert step.ticket.first_response_at == NOW
    later = reply(step.ticket, agent("ana"), reply_id=uuid.uuid4(), text="Done", now=LATER)
    assert later.ticket.first_response_at == NOW
    assert isinstance(later.events[0], AgentReplied)
    assert not later.events[0].is_first_response


def test_answering_an_unowned_ticket_claims_it(agent: AgentOf, ticket: TicketFactory) -> None:
    step = reply(ticket(), agent("ben"), reply_id=uuid.uuid4(), text="Hi", now=NOW)
    claimed, replied, _ = step.events
    assert isinstance(claimed, TicketAssigned)
    assert (claimed.agent_id, claimed.agent_level, claimed.reason) == ("ben", "L1", "claimed")
    assert isinstance(replied, AgentReplied)
    assert (step.ticket.status, step.ticket.agent_id) == ("assigned", "ben")


def test_claim_takes_only_an_unowned_cx_ticket(agent: AgentOf, ticket: TicketFactory) -> None:
    step = claim(ticket(), agent("dee"), now=NOW)
    assert (step.ticket.agent_id, step.transition) == ("dee", "claim")
    with pytest.raises(InvalidTransition, match="owner"):
        claim(step.ticket, agent("lead"), now=NOW)
    with pytest.raises(Forbidden):
        claim(ticket(), agent("hugo"), now=NOW)


@pytest.mark.parametrize(
    ("state", "why"),
    [
        ({"status": "dismissed"}, "dismissed, not a CX ticket"),
        ({"status": "marketing", "queue": "marketing"}, "marketing, not a CX ticket"),
        ({"status": "resolved"}, "resolved, reopen it first"),
    ],
)
def test_only_cx_tickets_being_worked_can_be_answered(
    agent: AgentOf, ticket: TicketFactory, state: dict[str, str], why: str
) -> None:
    with pytest.raises(InvalidTransition, match=why):
        reply(ticket(**state), agent("lead"), reply_id=uuid.uuid4(), text="Hi", now=NOW)


def test_a_retried_request_is_the_same_reply(agent: AgentOf) -> None:
    tid = uuid.uuid4()
    assert reply_id_for(tid, "ana", "k1") == reply_id_for(tid, "ana", "k1")
    assert reply_id_for(tid, "ana", "k1") != reply_id_for(tid, "ben", "k1")
    assert reply_id_for(tid, "ana", "k1") != reply_id_for(tid, "ana", "k2")


def test_a_blank_reply_or_note_is_refused_not_sent(agent: AgentOf, ticket: TicketFactory) -> None:
    """Spaces would reach the customer as nothing, and still stop the first-response clock."""
    owned = ticket(status="assigned", agent_id="ana")
    for blank in ("", "    ", "\n\t "):
        with pytest.raises(Unprocessable, match="the reply is blank"):
            reply(owned, agent("ana"), reply_id=uuid.uuid4(), text=blank, now=NOW)
        with pytest.raises(Unprocessable, match="the note is blank"):
            add_note(owned, agent("ana"), note_id=uuid.uuid4(), text=blank, now=NOW)
    assert reply(owned, agent("ana"), reply_id=uuid.uuid4(), text=" ok ", now=NOW).events


def test_a_root_cause_needs_words_and_keeps_its_category() -> None:
    assert root_cause_of("  bus swapped ", "delay") == "delay: bus swapped"
    assert root_cause_of("bus swapped", None) == "bus swapped"
    for blank in ("   ", " a ", "ab"):
        with pytest.raises(Unprocessable, match="the root cause"):
            root_cause_of(blank, "delay")


# --- resolve, reopen, routing guards ------------------------------------------------------


def test_resolve_closes_with_the_root_cause_once(agent: AgentOf, ticket: TicketFactory) -> None:
    step = resolve(
        ticket(status="assigned", agent_id="ana"), agent("lead"), root_cause="Bus swapped", now=NOW
    )
    (event,) = step.events
    assert isinstance(event, TicketResolved)
    assert (event.agent_id, event.root_cause, event.resolved_at) == ("lead", "Bus swapped", NOW)
    assert (step.ticket.status, step.ticket.resolved_at, step.ticket.agent_id) == ("resolved", NOW, "ana")
    with pytest.raises(AlreadyResolved):
        resolve(step.ticket, agent("lead"), root_cause="again", now=LATER)
    with pytest.raises(Forbidden):
        resolve(ticket(status="assigned", agent_id="ana"), agent("ben"), root_cause="not mine", now=NOW)


def test_only_a_resolved_ticket_reopens(message: MessageFactory, ticket: TicketFactory) -> None:
    with pytest.raises(InvalidTransition, match="only a resolved ticket reopens"):
        reopen(ticket(status="assigned", agent_id="ana"), message())


def test_a_routed_ticket_is_not_routed_again(
    agent: AgentOf, message: MessageFactory, ticket: TicketFactory
) -> None:
    with pytest.raises(InvalidTransition, match="already routed"):
        assign(
            ticket(status="assigned", agent_id="ana"),
            agent("ben"),
            reason="round_robin",
            message=message(),
            now=NOW,
        )
