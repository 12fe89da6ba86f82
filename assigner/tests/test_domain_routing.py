"""Routing a classified message: where it goes and who gets it (plain data, no IO)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_assigner.domain import Rotation, Ticket, route
from socialdesk_assigner.domain.errors import InvalidTransition
from socialdesk_assigner.domain.routing import agents_for, pick_agent, reopened_since, working_agents
from socialdesk_assigner.domain.ticket import follow_up
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_schemas import (
    MessageClassified,
    ReplyRequested,
    TicketAssigned,
    TicketDismissed,
    TicketQueued,
    TicketResolved,
    TicketRoutedToMarketing,
)
from socialdesk_schemas.desk import TicketReopened

MessageFactory = Callable[..., MessageClassified]
TicketFactory = Callable[..., Ticket]
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def team(*ids: str, cap: int = 3) -> list[Agent]:
    return [Agent(id=i, name=i, brands=["ourbus"], level="L1", max_open_tickets=cap) for i in ids]


TEAM = team("a", "b", "c")


def rotation(
    config: SocialdeskConfig, *, load: dict[str, int] | None = None, cursor: dict[str, str] | None = None
) -> Rotation:
    return Rotation(config, load=load or {}, last_owner={}, cursor=cursor or {})


# --- who: pick_agent and the rotation -----------------------------------------------------


def test_round_robin_starts_after_the_last_pick_and_wraps() -> None:
    picks = []
    last = None
    for _ in range(4):
        pick = pick_agent(TEAM, last_agent_id=last, open_load={})
        assert pick is not None
        picks.append(pick.agent.id)
        last = pick.agent.id
    assert picks == ["a", "b", "c", "a"]


def test_agents_at_capacity_are_skipped_and_nobody_left_means_none() -> None:
    pick = pick_agent(TEAM, last_agent_id="a", open_load={"b": 3})
    assert pick is not None
    assert pick.agent.id == "c"
    assert pick_agent(TEAM, last_agent_id=None, open_load={"a": 3, "b": 5, "c": 3}) is None


def test_returning_customer_keeps_their_agent_when_they_have_room() -> None:
    pick = pick_agent(TEAM, last_agent_id="a", open_load={}, previous_owner_id="c")
    assert pick is not None
    assert (pick.agent.id, pick.reason) == ("c", "same_customer")
    full = pick_agent(TEAM, last_agent_id="a", open_load={"c": 3}, previous_owner_id="c")
    assert full is not None
    assert (full.agent.id, full.reason) == ("b", "round_robin")


def test_a_departed_last_agent_restarts_the_rotation() -> None:
    pick = pick_agent(TEAM, last_agent_id="zed", open_load={})
    assert pick is not None
    assert pick.agent.id == "a"


def test_the_working_team_is_online_l1_and_l2_of_the_brand_in_file_order(config: SocialdeskConfig) -> None:
    assert [a.id for a in working_agents(config, "ourbus")] == ["ana", "ben", "dee"]
    assert [a.id for a in agents_for(config, "ourbus", online_only=False, levels=["L1"])] == [
        "ana",
        "ben",
        "cid",
    ]
    assert [a.id for a in agents_for(config, "rally")] == ["top", "hugo", "lia"]
    with pytest.raises(KeyError, match="unknown brand"):
        agents_for(config, "nope")


def test_the_rotation_counts_each_pick_and_remembers_the_customer(config: SocialdeskConfig) -> None:
    rot = rotation(config, load={"ana": 1}, cursor={"ourbus": "dee"})
    customer = uuid.uuid4()
    first = rot.choose("ourbus", customer)
    assert first is not None
    assert (first.agent.id, first.reason) == ("ana", "round_robin")
    assert rot.load["ana"] == 2
    again = rot.choose("ourbus", customer)
    assert again is not None
    # Ana is now at her cap of two: the returning customer goes on round robin.
    assert (again.agent.id, again.reason) == ("ben", "round_robin")
    assert rot.cursor == {"ourbus": "ben"}
    assert rot.moved == {"ourbus"}
    back = rot.choose("ourbus", customer)
    assert back is not None
    assert (back.agent.id, back.reason) == ("ben", "same_customer")
    assert rot.cursor == {"ourbus": "ben"}, "a same-customer pick does not move the rotation"


# --- where: route() -----------------------------------------------------------------------


def test_a_cx_message_opens_a_ticket_assigned_round_robin(
    config: SocialdeskConfig, message: MessageFactory
) -> None:
    msg = message(group_id="g-1")
    step = route(None, msg, rotation=rotation(config), config=config, now=NOW)
    assert (step.ticket.status, step.ticket.agent_id, step.transition) == ("assigned", "ana", "assign")
    (event,) = step.events
    assert isinstance(event, TicketAssigned)
    assert (event.agent_id, event.agent_level, event.reason, event.group_id) == (
        "ana",
        "L1",
        "round_robin",
        "g-1",
    )
    assert (event.causation_id, event.correlation_id) == (msg.event_id, msg.correlation_id)
    assert step.ticket.recipient_platform_user_id == "igsid-1"


def test_with_nobody_free_the_ticket_waits_unowned_in_the_queue(
    config: SocialdeskConfig, message: MessageFactory
) -> None:
    step = route(
        None, message(brand="rally"), rotation=rotation(config, load={"hugo": 15}), config=config, now=NOW
    )
    assert (step.ticket.status, step.ticket.agent_id) == ("open", None)
    (event,) = step.events
    assert isinstance(event, TicketQueued)
    assert "no eligible agent" in event.reason


def test_marketing_and_noise_are_not_worked_by_cx(config: SocialdeskConfig, message: MessageFactory) -> None:
    rot = rotation(config)
    mkt = route(None, message(queue="marketing", category="promo"), rotation=rot, config=config, now=NOW)
    assert mkt.ticket.status == "marketing"
    assert isinstance(mkt.events[0], TicketRoutedToMarketing)
    noise = route(
        None, message(queue="ignore", reasons=["crypto", "link"]), rotation=rot, config=config, now=NOW
    )
    assert noise.ticket.status == "dismissed"
    (dismissed,) = noise.events
    assert isinstance(dismissed, TicketDismissed)
    assert dismissed.reason == "crypto; link"
    plain = route(None, message(queue="ignore"), rotation=rot, config=config, now=NOW)
    assert isinstance(plain.events[0], TicketDismissed)
    assert plain.events[0].reason == "classified as noise"
    assert rot.load == {}, "nobody's capacity was used"


def test_a_plain_question_is_answered_in_its_language_and_resolved(
    config: SocialdeskConfig, message: MessageFactory
) -> None:
    msg = message(category="query", auto_reply="luggage", language="es-MX")
    step = route(None, msg, rotation=rotation(config), config=config, now=NOW)
    assert (step.ticket.status, step.ticket.root_cause, step.transition) == (
        "resolved",
        "auto_reply:luggage",
        "auto_answer",
    )
    assert step.ticket.first_response_at == step.ticket.resolved_at == NOW
    request, resolved = step.events
    assert isinstance(request, ReplyRequested)
    assert (request.text, request.origin, request.template_key) == (
        "Un equipaje de mano.",
        "auto_reply",
        "luggage",
    )
    assert request.in_reply_to_platform_message_id == msg.platform_message_id
    assert isinstance(resolved, TicketResolved)
    assert resolved.agent_id == "auto-reply"
    redelivered = route(None, msg, rotation=rotation(config), config=config, now=NOW)
    again = redelivered.events[0]
    assert isinstance(again, ReplyRequested)
    assert again.reply_id == request.reply_id, "a redelivered message asks for the same reply"


def test_a_template_the_brand_has_no_saved_reply_for_goes_to_a_person(
    config: SocialdeskConfig, message: MessageFactory
) -> None:
    for key in ("refunds", "pets"):  # refunds are Rally's only; pets exists for nobody
        step = route(None, message(auto_reply=key), rotation=rotation(config), config=config, now=NOW)
        assert step.transition == "assign"


def test_a_follow_up_keeps_the_owner_and_emits_nothing(
    config: SocialdeskConfig, message: MessageFactory, ticket: TicketFactory
) -> None:
    for status in ("assigned", "open", "marketing", "dismissed"):
        current = ticket(status=status, agent_id="ana" if status == "assigned" else None)
        step = route(
            current, message(platform_message_id="m-2"), rotation=rotation(config), config=config, now=NOW
        )
        assert step.events == ()
        assert (step.ticket.status, step.ticket.agent_id) == (current.status, current.agent_id)
        assert (step.ticket.message_count, step.ticket.last_platform_message_id) == (2, "m-2")


def test_a_message_on_a_resolved_ticket_reopens_and_routes_it_to_a_person(
    config: SocialdeskConfig, message: MessageFactory, ticket: TicketFactory
) -> None:
    done: Ticket = ticket(
        status="resolved", root_cause="auto_reply:luggage", resolved_at=NOW, first_response_at=NOW
    )
    # Even with a template proposed: a customer writing back after an auto-reply wants a person.
    msg = message(ticket_id=done.ticket_id, auto_reply="luggage", category="request", priority="medium")
    step = route(done, msg, rotation=rotation(config), config=config, now=NOW)
    assert step.transition == "assign"
    t = step.ticket
    assert (t.status, t.category, t.priority, t.message_count) == ("assigned", "request", "medium", 2)
    assert (t.root_cause, t.resolved_at, t.first_response_at) == (None, None, None)
    assert t.received_at == done.received_at, "a reopened ticket keeps when it was first received"


def test_a_reopening_starts_when_the_customer_wrote_never_before_the_resolve(
    config: SocialdeskConfig, message: MessageFactory, ticket: TicketFactory
) -> None:
    """The new episode's clocks start when the customer wrote (as a new ticket's do), not when
    the classifier got to it: an inbox reply typed in between then meets them (0305
    addendum). A message received before the resolve (read late) starts it just after it."""
    resolved_at = NOW - timedelta(minutes=30)
    done: Ticket = ticket(status="resolved", root_cause="answered", resolved_at=resolved_at)
    for received_at, since in (
        (NOW - timedelta(minutes=5), NOW - timedelta(minutes=5)),
        (resolved_at - timedelta(minutes=1), resolved_at + timedelta(microseconds=1)),
    ):
        msg = message(ticket_id=done.ticket_id, received_at=received_at)
        step = route(done, msg, rotation=rotation(config), config=config, now=NOW)
        reopened = step.events[0]
        assert isinstance(reopened, TicketReopened) and reopened.reason == "customer_wrote"
        assert reopened.reopened_at == since == reopened_since(done, msg)
        assert reopened.occurred_at == NOW


def test_follow_up_is_not_how_a_resolved_ticket_changes(
    message: MessageFactory, ticket: TicketFactory
) -> None:
    with pytest.raises(InvalidTransition, match="reopens"):
        follow_up(ticket(status="resolved"), message())
