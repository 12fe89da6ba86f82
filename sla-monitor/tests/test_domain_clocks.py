"""Policies by ticket, pauses, the next-response clock and the ladder's start, on plain
data (no database), every due time to the second."""

from __future__ import annotations

import dataclasses
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from socialdesk_runtime.config import ConfigError, SocialdeskConfig, load_config
from socialdesk_schemas import MessageReceived, TicketAssigned
from socialdesk_schemas.desk import FollowUpPromised
from socialdesk_schemas.sla import FollowUpDue
from socialdesk_sla_monitor.domain import (
    FIRST_RESPONSE,
    NEXT_RESPONSE,
    RESOLUTION,
    Facts,
    acknowledge,
    arm,
    arm_next_response,
    breach,
    calendar_named,
    climb,
    clock_armed,
    opening,
    pause,
    promise,
    resume,
    retarget,
    start_level,
    stop,
    target_seconds,
)

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday

BASE = textwrap.dedent(
    """\
    version: 1
    brands:
      - id: ourbus
        name: OurBus
        business_hours: {hours}
        slack_channels: {{L3: C0OBL3, L4: C0OBL4, TMT: C0TMT}}
    agents:
      - {{id: ana, name: Ana, brands: [ourbus], level: L1}}
      - {{id: farah, name: Farah, brands: [ourbus], level: L3}}
      - {{id: gabe, name: Gabe, brands: [ourbus], level: L4}}
    intake:
      api_keys_env: INGEST_API_KEYS
    sla:
    """
)

POLICIES = """\
  first_response_seconds: 7200
  warn_at_fraction: 0.75
  by_priority:
    critical: {first_response_seconds: 900}
  policies:
    - {brands: [ourbus], platforms: [x], kinds: [mention], first_response_seconds: 900}
    - {categories: [safety], first_response_seconds: 600, resolution_seconds: 14400}
    - {categories: [query, request], resolution_seconds: 86400}
    - {platforms: [whatsapp], first_response_seconds: 259200, calendar: "24/7"}
  ladder:
    rung_delay_seconds: 1800
    start_at: {safety: L4, crisis: TMT}
  calendars:
    office:
      timezone: UTC
      hours: {mon: ["08:00-16:00"], tue: ["08:00-16:00"], wed: ["08:00-16:00"], thu: ["08:00-16:00"], fri: ["08:00-16:00"]}
"""


def write(tmp_path: Path, sla: str, *, hours: str = "office", name: str = "socialdesk.yaml") -> Path:
    path = tmp_path / name
    path.write_text(BASE.format(hours=hours) + sla, encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> SocialdeskConfig:
    return load_config(write(tmp_path, POLICIES), env={})


def assigned(
    ticket: uuid.UUID | None = None, *, priority: str = "medium", at: datetime = T0
) -> TicketAssigned:
    return TicketAssigned.model_validate(
        {
            "producer": "test",
            "occurred_at": at,
            "ticket_id": ticket or uuid.uuid4(),
            "correlation_id": uuid.uuid4(),
            "brand": "ourbus",
            "platform": "x",
            "agent_id": "ana",
            "agent_level": "L1",
            "priority": priority,
            "received_at": at,
        }
    )


# --- policies ---------------------------------------------------------------------------


def test_the_first_matching_policy_sets_each_clock(config: SocialdeskConfig) -> None:
    sla = config.sla
    dm = Facts("ourbus", "x", "medium", "dm", "complaint")
    mention = Facts("ourbus", "x", "medium", "mention", "complaint")
    safety = Facts("ourbus", "facebook", "medium", "dm", "safety")
    query = Facts("ourbus", "facebook", "low", "dm", "query")
    assert target_seconds(sla, "first_response", "medium", "x", facts=dm) == 7200
    assert target_seconds(sla, "first_response", "medium", "x", facts=mention) == 900
    assert target_seconds(sla, "first_response", "medium", "facebook", facts=safety) == 600
    assert target_seconds(sla, "resolution", "medium", "facebook", facts=safety) == 14400
    assert target_seconds(sla, "resolution", "low", "facebook", facts=query) == 86400
    assert target_seconds(sla, "resolution", "low", "facebook", facts=dm) == 172800, "seed 002: two days"
    unknown = Facts("ourbus", "facebook", "critical")  # not classified yet: category policies do not match
    assert target_seconds(sla, "first_response", "critical", "facebook", facts=unknown) == 900


def test_seed_defaults_resolve_queries_within_a_day_and_complaints_within_two(tmp_path: Path) -> None:
    sla = load_config(write(tmp_path, "  first_response_seconds: 7200\n", hours="24/7"), env={}).sla
    facts = {c: Facts("ourbus", "x", "medium", "dm", c) for c in ("query", "request", "complaint")}
    assert {c: target_seconds(sla, "resolution", "medium", "x", facts=f) for c, f in facts.items()} == {
        "query": 86400,
        "request": 86400,
        "complaint": 172800,
    }
    assert target_seconds(sla, "first_response", "medium", "x") == 7200, "seed 000: two hours"


def test_clocks_count_the_brands_open_hours_unless_a_policy_counts_around_the_clock(
    config: SocialdeskConfig,
) -> None:
    # Wednesday 15:00, open until 16:00: 2 h of open time end Thursday 09:00.
    at = T0.replace(hour=15)
    plain = arm(opening(assigned(at=at), config), metric=FIRST_RESPONSE, config=config, hot=False)
    assert (plain.calendar, plain.deadline) == ("office", datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    assert plain.warn_at == datetime(2026, 11, 19, 8, 30, tzinfo=UTC), "75 % of 2 h"
    safety = arm(
        opening(assigned(at=at), config, ("dm", "safety")), metric=FIRST_RESPONSE, config=config, hot=False
    )
    assert (safety.calendar, safety.deadline) == ("office", at + timedelta(minutes=10))
    late = arm(
        opening(assigned(at=at.replace(hour=15, minute=55)), config, ("dm", "safety")),
        metric=FIRST_RESPONSE,
        config=config,
        hot=False,
    )
    assert late.deadline == datetime(2026, 11, 19, 8, 5, tzinfo=UTC), "5 min on Wednesday, 5 on Thursday"
    whatsapp = assigned(at=at).model_copy(update={"platform": "whatsapp"})
    around = arm(opening(whatsapp, config), metric=FIRST_RESPONSE, config=config, hot=False)
    assert (around.calendar, around.deadline) == ("24/7", at + timedelta(days=3))


# --- pauses -----------------------------------------------------------------------------


def test_a_pause_keeps_the_open_time_left_and_a_resume_spends_it(config: SocialdeskConfig) -> None:
    timer = arm(opening(assigned(), config), metric=RESOLUTION, config=config, hot=False)
    office = calendar_named(config, "office")
    # 48 open hours from Wednesday 10:00 on an 8-hour weekday calendar: six days.
    assert timer.deadline == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    paused = pause(timer, T0 + timedelta(hours=2), office)  # 12:00: 46 h left
    assert paused is not None
    assert (paused.deadline, paused.warn_at, paused.remaining_seconds) == (None, None, 46 * 3600)
    assert pause(paused, T0 + timedelta(hours=3), office) is None, "paused once"
    # The customer writes on Saturday: the clock resumes at Monday's opening.
    resumed = resume(paused, datetime(2026, 11, 21, 12, 0, tzinfo=UTC), office, warn_fraction=0.75)
    assert resumed is not None
    assert resumed.deadline == datetime(2026, 11, 30, 14, 0, tzinfo=UTC), "Mon 08:00 + 46 open hours"
    # Warns when a quarter of 48 h (12 h) is left: after 34 more open hours.
    assert resumed.warn_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_a_paused_clock_met_counts_as_in_time(config: SocialdeskConfig) -> None:
    timer = arm(opening(assigned(), config), metric=RESOLUTION, config=config, hot=False)
    paused = pause(timer, T0 + timedelta(hours=1), calendar_named(config, "office"))
    assert paused is not None
    met = stop(paused, T0 + timedelta(days=30))
    assert met is not None and met.in_time and met.timer.state == "met"


# --- next response ----------------------------------------------------------------------


def message(ticket: uuid.UUID, at: datetime) -> MessageReceived:
    return MessageReceived.model_validate(
        {
            "producer": "ingest",
            "occurred_at": at,
            "ticket_id": ticket,
            "correlation_id": uuid.uuid4(),
            "message_id": uuid.uuid4(),
            "conversation_id": uuid.uuid4(),
            "customer_id": uuid.uuid4(),
            "brand": "ourbus",
            "platform": "x",
            "kind": "dm",
            "platform_message_id": "m1",
            "author": {"platform_user_id": "1"},
            "text": "and now?",
            "received_at": at,
            "opens_ticket": False,
        }
    )


def test_next_response_starts_only_after_an_answer(config: SocialdeskConfig) -> None:
    ticket = uuid.uuid4()
    first = arm(opening(assigned(ticket), config), metric=FIRST_RESPONSE, config=config, hot=False)
    later = T0 + timedelta(minutes=30)
    assert arm_next_response(message(ticket, later), {FIRST_RESPONSE: first}, config) is None, "unanswered"
    answered = stop(first, T0 + timedelta(minutes=20))
    assert answered is not None
    clocks = {FIRST_RESPONSE: answered.timer}
    assert arm_next_response(message(ticket, T0 + timedelta(minutes=10)), clocks, config) is None, "older"
    nxt = arm_next_response(message(ticket, later), clocks, config)
    assert nxt is not None
    assert (nxt.metric, nxt.started_at, nxt.deadline) == (NEXT_RESPONSE, later, later + timedelta(hours=2))
    waiting = {**clocks, NEXT_RESPONSE: nxt}
    assert arm_next_response(message(ticket, later + timedelta(minutes=5)), waiting, config) is None, (
        "still waiting"
    )


# --- the ladder -------------------------------------------------------------------------


def test_safety_and_crisis_start_higher_and_rungs_follow_the_configured_delay(
    config: SocialdeskConfig,
) -> None:
    assert start_level(config, "ourbus", "L3", category="safety", hot=False) == "L4"
    assert start_level(config, "ourbus", "L3", category="safety", hot=True) == "TMT"
    assert start_level(config, "ourbus", "L3", category="query", hot=False) == "L3"
    timer = arm(
        opening(assigned(), config, ("dm", "safety")), metric=FIRST_RESPONSE, config=config, hot=False
    )
    assert timer.deadline is not None
    fired = breach(timer, timer.deadline, config)
    escalated = fired.events[1]
    assert (escalated.to_level, escalated.to_agent_id) == ("L4", "gabe")  # type: ignore[attr-defined]
    assert fired.timer.next_escalation_at == timer.deadline + timedelta(seconds=1800)


def test_an_acknowledgement_stops_the_climb(config: SocialdeskConfig) -> None:
    timer = arm(opening(assigned(), config), metric=FIRST_RESPONSE, config=config, hot=False)
    assert timer.deadline is not None
    escalating = breach(timer, timer.deadline, config).timer
    acked = acknowledge(escalating, timer.deadline + timedelta(minutes=1))
    assert acked is not None and (acked.state, acked.next_escalation_at) == ("breached", None)
    assert acknowledge(acked, timer.deadline) is None
    assert acknowledge(dataclasses.replace(timer), T0) is None, "nothing to acknowledge before a breach"


# --- refused at start, with the line ---------------------------------------------------


def refused(tmp_path: Path, sla: str, *, hours: str = "office") -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, sla, hours=hours, name="bad.yaml"), env={})
    return str(caught.value)


def line_of(sla: str, needle: str, *, hours: str = "office") -> int:
    """The file line holding ``needle`` (1-based), as the loader reports it."""
    lines = (BASE.format(hours=hours) + sla).splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_a_24_7_target_shorter_than_the_brands_closed_stretch_is_refused(tmp_path: Path) -> None:
    bad = POLICIES.replace(
        "first_response_seconds: 600, resolution_seconds: 14400}",
        'first_response_seconds: 600, calendar: "24/7"}',
    )
    bad = bad.replace("first_response_seconds: 259200", "first_response_seconds: 86400")
    message = refused(tmp_path, bad)
    # The office is closed Friday 16:00 to Monday 08:00 (64 h): a 24/7 safety target of
    # 10 min, or a 24/7 day for WhatsApp, cannot be met.
    safety, whatsapp = line_of(bad, "[safety]"), line_of(bad, "[whatsapp]")
    assert f"bad.yaml:{safety}: sla.policies[1].first_response_seconds: 0.166667 h counted 24/7" in message
    assert "closed for up to 64 h" in message
    assert f"bad.yaml:{whatsapp}: sla.policies[3].first_response_seconds: 24 h counted 24/7" in message


def test_an_unknown_time_zone_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = POLICIES.replace("timezone: UTC", "timezone: Mars/Olympus")
    message = refused(tmp_path, bad)
    assert f"bad.yaml:{line_of(bad, 'Mars')}: sla.calendars.office.timezone" in message
    assert "not an IANA timezone" in message


def test_a_rung_without_a_slack_channel_is_refused(tmp_path: Path) -> None:
    bad = POLICIES.replace("safety: L4", "safety: L2")
    message = refused(tmp_path, bad)
    assert (
        f"bad.yaml:{line_of(bad, 'start_at')}: sla.ladder.start_at.safety: safety breaches start at L2"
        in message
    )
    assert "brand 'ourbus' has no L2 Slack channel" in message


def test_a_calendar_that_never_opens_or_an_unknown_one_is_refused(tmp_path: Path) -> None:
    never = "  calendars:\n    closed:\n      timezone: UTC\n      hours: {mon: []}\n"
    assert "never open" in refused(tmp_path, never, hours="closed")
    assert "unknown calendar 'nights'" in refused(
        tmp_path, "  policies:\n    - {calendar: nights}\n", hours="24/7"
    )


# --- follow-ups and late classifications ----------------------------------------------


def test_a_promise_is_due_when_promised_and_reminds_before_it_climbs(config: SocialdeskConfig) -> None:
    ticket = uuid.uuid4()
    promised = FollowUpPromised(
        producer="assigner",
        occurred_at=T0,
        ticket_id=ticket,
        correlation_id=uuid.uuid4(),
        follow_up_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        agent_id="ana",
        due_at=T0 + timedelta(hours=20),
    )
    timer = promise(promised, config, priority="high")
    assert (timer.metric, timer.deadline, timer.calendar, timer.agent_level) == (
        "follow_up",
        T0 + timedelta(hours=20),
        "24/7",
        "L1",
    )
    assert clock_armed(timer, T0) is not None and clock_armed(timer, T0).warn_at is None  # type: ignore[union-attr]
    fired = breach(timer, T0 + timedelta(hours=20), config)
    (due,) = fired.events
    assert isinstance(due, FollowUpDue) and due.agent_id == "ana"
    assert fired.timer.next_escalation_at == T0 + timedelta(hours=20, seconds=1800), "the rung delay"
    climbed = climb(fired.timer, T0 + timedelta(hours=20, seconds=1800), config)
    (escalated,) = climbed.events
    assert escalated.to_level == "L3" and "follow-up" in escalated.reason  # type: ignore[attr-defined]
    kept = stop(timer, T0 + timedelta(hours=1))
    assert kept is not None and kept.in_time


def test_a_late_classification_moves_a_running_clock_from_its_start(config: SocialdeskConfig) -> None:
    timer = arm(opening(assigned(), config), metric=FIRST_RESPONSE, config=config, hot=False)
    assert timer.deadline == T0 + timedelta(hours=2)
    moved = retarget(timer, ("dm", "safety"), config)
    assert moved is not None
    assert (moved.category, moved.target_seconds, moved.deadline) == (
        "safety",
        600,
        T0 + timedelta(minutes=10),
    )
    assert retarget(moved, ("dm", "query"), config) is None, "known already"
    assert retarget(dataclasses.replace(timer, state="met"), ("dm", "safety"), config) is None
