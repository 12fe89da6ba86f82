"""Timers on plain data: arming, stopping, tightening and what fires when (no database)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from socialdesk_runtime.config import SocialdeskConfig, load_config
from socialdesk_schemas import (
    AgentReplied,
    SlaBreached,
    SlaWarning,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
)
from socialdesk_schemas.desk import TicketReopened
from socialdesk_sla_monitor.domain import (
    FIRST_RESPONSE,
    Timer,
    arm,
    arm_many,
    breach,
    cancel,
    climb,
    clock_completed,
    first_replies,
    merge_armed,
    opening,
    park,
    reply_placeholder,
    reprioritize,
    stop,
    tighten,
    warn,
)

# The test deployment: 4 s first response (2 s when critical), warning at half.
CONFIG = Path(__file__).resolve().parents[2] / "tests" / "data" / "socialdesk.test.yaml"
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def config() -> SocialdeskConfig:
    return load_config(CONFIG, env={})


def assigned(
    ticket: uuid.UUID | None = None,
    *,
    priority: str = "medium",
    level: str = "L1",
    agent: str = "ob-ana",
    group: str | None = None,
) -> TicketAssigned:
    return TicketAssigned.model_validate(
        {
            "producer": "test",
            "occurred_at": T0,
            "ticket_id": ticket or uuid.uuid4(),
            "correlation_id": uuid.uuid4(),
            "brand": "ourbus",
            "platform": "x",
            "agent_id": agent,
            "agent_level": level,
            "priority": priority,
            "received_at": T0,
            "group_id": group,
        }
    )


def replied(ticket: uuid.UUID, seconds: float) -> AgentReplied:
    return AgentReplied(
        producer="test",
        occurred_at=at(seconds),
        ticket_id=ticket,
        correlation_id=uuid.uuid4(),
        reply_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        agent_id="ob-ana",
        replied_at=at(seconds),
        is_first_response=True,
    )


def armed(config: SocialdeskConfig, *, ticket: uuid.UUID | None = None, priority: str = "medium") -> Timer:
    event = assigned(ticket, priority=priority)
    return arm(opening(event, config), metric=FIRST_RESPONSE, config=config, hot=False)


def first_responses(
    events: list[TicketAssigned | TicketQueued], config: SocialdeskConfig, hot: set[str]
) -> list[Timer]:
    timers = arm_many([opening(e, config) for e in events], config=config, hot_groups=hot)
    return [t for t in timers if t.metric == FIRST_RESPONSE]


# --- arming -----------------------------------------------------------------------------


def test_a_timer_is_due_by_the_policy_from_intake(config: SocialdeskConfig) -> None:
    timer = armed(config)
    assert (timer.state, timer.started_at, timer.warn_at, timer.deadline) == ("armed", T0, at(2), at(4))
    assert (timer.agent_id, timer.agent_level) == ("ob-ana", "L1")
    assert armed(config, priority="critical").deadline == at(2)


def test_each_clock_of_a_ticket_has_its_own_target(config: SocialdeskConfig) -> None:
    event = assigned()
    resolution = arm(opening(event, config), metric="resolution", config=config, hot=False, started_at=at(10))
    assert (resolution.metric, resolution.deadline) == ("resolution", at(10 + 172800))
    both = arm_many([opening(event, config)], config=config, hot_groups=set())
    assert {(t.metric, t.deadline) for t in both} == {("first_response", at(4)), ("resolution", at(172800))}


def test_a_queued_ticket_has_no_owner_and_a_hot_group_arms_tight(config: SocialdeskConfig) -> None:
    queued = TicketQueued(
        producer="test",
        occurred_at=T0,
        ticket_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        brand="rally",
        platform="instagram",
        queue="cx",
        priority="medium",
        received_at=T0,
        reason="nobody online",
        group_id="g-hot",
    )
    (timer,) = first_responses([queued], config, {"g-hot"})
    assert (timer.agent_id, timer.agent_level, timer.hot, timer.deadline) == (None, None, True, at(2))


def test_a_ticket_re_owned_within_a_batch_keeps_one_timer_with_the_newest_owner(
    config: SocialdeskConfig,
) -> None:
    ticket = uuid.uuid4()
    first = assigned(ticket)
    later = assigned(ticket, level="L2", agent="ob-dee")
    (timer,) = first_responses([first, later], config, set())
    assert (timer.agent_id, timer.agent_level, timer.correlation_id) == ("ob-dee", "L2", first.correlation_id)


def test_arming_completes_the_placeholder_a_reply_left(config: SocialdeskConfig) -> None:
    ticket = uuid.uuid4()
    placeholder = reply_placeholder(replied(ticket, 1), FIRST_RESPONSE)
    assert (placeholder.state, placeholder.deadline) == ("met", None)
    timer = armed(config, ticket=ticket)
    merged = merge_armed(placeholder, timer)
    assert merged is not None
    assert (merged.state, merged.deadline, merged.stopped_at) == ("met", at(4), at(1))
    assert merge_armed(timer, timer) is None, "a live timer keeps its state"


def test_the_desk_learns_a_clock_a_reply_overtook_armed_then_met(config: SocialdeskConfig) -> None:
    """Found on CI: the placeholder's arming told the desk nothing, so its ticket showed no
    first-response clock at all."""
    ticket = uuid.uuid4()
    placeholder = reply_placeholder(replied(ticket, 1), FIRST_RESPONSE)
    merged = merge_armed(placeholder, armed(config, ticket=ticket))
    assert merged is not None
    told = clock_completed(placeholder, merged, at(5))
    assert told is not None
    armed_event, stopped = told
    assert (armed_event.clock, armed_event.due_at, armed_event.ticket_id) == (FIRST_RESPONSE, at(4), ticket)
    assert (stopped.clock, stopped.outcome, stopped.stopped_at) == (FIRST_RESPONSE, "met", at(1))
    late = reply_placeholder(replied(ticket, 9), FIRST_RESPONSE)
    late_merged = merge_armed(late, armed(config, ticket=ticket))
    assert late_merged is not None
    told_late = clock_completed(late, late_merged, at(10))
    assert told_late is not None and told_late[1].outcome == "met_late"
    assert clock_completed(merged, merged, at(5)) is None, "told once: a completed placeholder is not one"


def test_a_later_start_is_a_reopened_tickets_new_episode(config: SocialdeskConfig) -> None:
    ticket = uuid.uuid4()
    old = cancel(armed(config, ticket=ticket), at(2))
    assert old is not None
    reopened = assigned(ticket).model_copy(update={"received_at": at(60)})
    (new,) = first_responses([reopened], config, set())
    merged = merge_armed(old, new)
    assert merged is not None
    assert (merged.state, merged.started_at, merged.deadline, merged.stopped_at) == (
        "armed",
        at(60),
        at(64),
        None,
    )
    reowned = armed(config, ticket=ticket)  # a claim keeps the intake time: same episode
    assert merge_armed(old, reowned) is None


def test_a_reopening_within_a_batch_arms_the_later_episode(config: SocialdeskConfig) -> None:
    ticket = uuid.uuid4()
    later = assigned(ticket).model_copy(update={"received_at": at(30)})
    (timer,) = first_responses([assigned(ticket), later], config, set())
    assert (timer.started_at, timer.deadline) == (at(30), at(34))


@pytest.mark.parametrize(
    ("reason", "clocks"), [("customer_wrote", ["first_response", "resolution"]), ("agent", ["resolution"])]
)
def test_a_reopening_by_the_customer_owes_an_answer_and_one_by_an_agent_does_not(
    config: SocialdeskConfig, reason: str, clocks: list[str]
) -> None:
    """An agent reopening a ticket to finish work is not a customer waiting: no first-response
    clock (it would breach and take the ticket from its owner), only the resolution one."""
    reopened = TicketReopened(
        producer="assigner",
        occurred_at=at(60),
        ticket_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        brand="ourbus",
        platform="instagram",
        priority="high",
        agent_id="ob-ana",
        reopened_at=at(60),
        reason=reason,
    )
    timers = arm_many([opening(reopened, config)], config=config, hot_groups=set())
    assert [t.metric for t in timers] == clocks
    assert all(t.started_at == at(60) for t in timers)
    # a ticket nobody ever answered still owes its first response, whoever reopens it
    never = arm_many([opening(reopened, config, answered=False)], config=config, hot_groups=set())
    assert [t.metric for t in never] == ["first_response", "resolution"]


def test_a_reopening_from_when_the_customer_wrote_is_met_by_a_reply_made_before_it_was_routed(
    config: SocialdeskConfig,
) -> None:
    """The desk's reopening starts when the customer wrote, before it was routed (decision
    0305 addendum): a reply typed in between meets the new episode's clock, which replaces
    the earlier episode's finished one; a resolution of the earlier episode read late does
    not touch it."""
    earlier = dataclasses.replace(armed(config), state="met", stopped_at=at(2))
    reopened = TicketReopened(
        producer="assigner",
        occurred_at=at(100),  # routed then
        ticket_id=earlier.ticket_id,
        correlation_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        priority="medium",
        agent_id="ob-ana",
        reopened_at=at(90),  # the customer wrote then
        reason="customer_wrote",
    )
    (fresh,) = [
        t
        for t in arm_many([opening(reopened, config)], config=config, hot_groups=set())
        if t.metric == FIRST_RESPONSE
    ]
    assert merge_armed(earlier, fresh) == fresh, "a new episode replaces the earlier one's timer"
    met = stop(fresh, at(92))  # typed in the inbox before the routing
    assert met is not None and met.in_time
    assert cancel(fresh, at(60)) is None, "the earlier episode's resolution, read late"


# --- stopping ---------------------------------------------------------------------------


def test_the_earliest_reply_of_a_batch_is_the_one_that_counts() -> None:
    ticket, other = uuid.uuid4(), uuid.uuid4()
    replies = first_replies([replied(ticket, 3), replied(other, 9), replied(ticket, 1)])
    assert {t: r.replied_at for t, r in replies.items()} == {ticket: at(1), other: at(9)}


def test_a_reply_meets_a_live_timer_in_time_or_late(config: SocialdeskConfig) -> None:
    timer = armed(config)
    in_time = stop(timer, at(4))
    assert in_time is not None
    assert (in_time.in_time, in_time.timer.state, in_time.timer.stopped_at) == (True, "met", at(4))
    escalating = dataclasses.replace(timer, state="breached", next_escalation_at=at(8))
    late = stop(escalating, at(5))
    assert late is not None
    assert (late.in_time, late.timer.next_escalation_at) == (False, None)
    assert stop(in_time.timer, at(6)) is None, "a met timer is met once"


def test_resolving_cancels_live_timers_only(config: SocialdeskConfig) -> None:
    timer = armed(config)
    cancelled = cancel(timer, at(1))
    assert cancelled is not None
    assert (cancelled.state, cancelled.stopped_at) == ("cancelled", at(1))
    assert cancel(cancelled, at(2)) is None


def test_a_resolution_or_reply_from_before_the_clock_started_changes_nothing(
    config: SocialdeskConfig,
) -> None:
    timer = dataclasses.replace(armed(config), started_at=at(10), deadline=at(14))
    assert cancel(timer, at(9)) is None, "an earlier episode's resolution, read late"
    assert stop(timer, at(9)) is None
    assert cancel(timer, at(10)) is not None


def test_a_parked_timer_is_no_longer_live(config: SocialdeskConfig) -> None:
    parked = park(dataclasses.replace(armed(config), state="breached", next_escalation_at=at(8)))
    assert (parked.state, parked.next_escalation_at) == ("parked", None)
    assert stop(parked, at(9)) is None and cancel(parked, at(9)) is None


def test_a_hot_topic_tightens_a_live_timer_once_never_into_the_past(config: SocialdeskConfig) -> None:
    timer = armed(config)  # warn at 2 s, due at 4 s
    tight = tighten(timer, factor=0.5, now=at(1.5))
    assert tight is not None
    assert (tight.hot, tight.warn_at, tight.deadline) == (True, at(1.5), at(2))
    assert tighten(tight, factor=0.5, now=at(1.5)) is None, "tightened once"
    late = tighten(timer, factor=0.5, now=at(3))
    assert late is not None and late.deadline == at(3)


# --- firing -----------------------------------------------------------------------------


def test_a_warning_says_how_long_is_left(config: SocialdeskConfig) -> None:
    fired = warn(armed(config), at(2.1))
    (warning,) = fired.events
    assert isinstance(warning, SlaWarning)
    assert (warning.deadline, warning.remaining_seconds, warning.agent_id) == (at(4), 1.9, "ob-ana")
    assert fired.timer.warned


def test_no_warning_once_past_the_deadline(config: SocialdeskConfig) -> None:
    fired = warn(armed(config), at(4.5))
    assert fired.events == ()
    assert fired.timer.warned


def test_a_breach_escalates_to_the_brand_lead_and_plans_the_next_rung(config: SocialdeskConfig) -> None:
    fired = breach(armed(config), at(4), config)
    breached, escalated = fired.events
    assert isinstance(breached, SlaBreached)
    assert (breached.deadline, breached.breached_at) == (at(4), at(4))
    assert isinstance(escalated, TicketEscalated)
    assert (escalated.from_level, escalated.to_level, escalated.to_agent_id) == ("L1", "L3", "ob-lead")
    assert (fired.timer.state, fired.timer.escalation_level) == ("breached", "L3")
    assert fired.timer.next_escalation_at == at(8), "one SLA period later"


def test_still_unanswered_climbs_to_top_management_and_stops(config: SocialdeskConfig) -> None:
    timer = breach(armed(config), at(4), config).timer
    levels = []
    for step in range(1, 4):
        fired = climb(timer, at(4 + 4 * step), config)
        levels.append(
            tuple(
                (e.from_level, e.to_level, e.to_agent_id)
                for e in fired.events
                if isinstance(e, TicketEscalated)
            )
        )
        timer = fired.timer
    assert levels == [(("L3", "L4", "ob-mgr"),), (("L4", "TMT", "ob-tmt"),), ()]
    assert timer.next_escalation_at is None


def test_a_ticket_that_became_critical_is_due_by_the_critical_target_from_its_start(
    config: SocialdeskConfig,
) -> None:
    timer = armed(config)  # medium: due at 4 s, warned at 2 s
    raised = reprioritize(timer, "critical", config, at(0.5))
    assert raised is not None
    assert (raised.priority, raised.deadline, raised.warn_at) == ("critical", at(2), at(1))
    late = reprioritize(timer, "critical", config, at(3))
    assert late is not None and late.deadline == at(3), "past its new target: due now, not in the past"
    assert reprioritize(timer, "low", config, at(0.5)) is None, "never lowered, never later"
    assert reprioritize(raised, "critical", config, at(0.5)) is None, "already that urgent"
    met = stop(timer, at(1))
    assert met is not None and reprioritize(met.timer, "critical", config, at(1.5)) is None
