"""sla-monitor's three clocks through the real bootstrap, on PostgreSQL, with a fake clock:
resolution paused while pending, next response after an answer, business hours, policies
by category and a ladder that starts higher. Every due time checked to the second."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig, load_config
from socialdesk_schemas import (
    Event,
    MessageClassified,
    MessageReceived,
    SlaBreached,
    SlaWarning,
    TicketEscalated,
)
from socialdesk_schemas.desk import FollowUpPromised, TicketPending
from socialdesk_schemas.sla import FollowUpDue, SlaClockArmed, SlaClockStopped
from tests.integration.test_sla_monitor import assigned, emitted, reopened, replied, resolved, running
from tests.support import TEST_CONFIG, TEST_ENV, envelope

pytestmark = pytest.mark.integration

SHORT_CLOCKS = """\
sla:
  first_response_seconds: 4
  next_response_seconds: 6
  resolution_seconds: 10
  warn_at_fraction: 0.5
  policies:
    - {categories: [safety], first_response_seconds: 1}
  ladder:
    start_at: {safety: TMT}
  calendars:
    weekdays:
      timezone: Europe/London
      hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
      holidays: [2026-12-25]
"""


def config_with(tmp_path: Path, *, ourbus_hours: str | None = None) -> SocialdeskConfig:
    text = TEST_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^sla:\n.*?(?=^intake:)", SHORT_CLOCKS, text)
    if ourbus_hours is not None:
        text = text.replace(
            "    escalation_ladder: [L1, L2, L3, L4, TMT]\n",
            f"    escalation_ladder: [L1, L2, L3, L4, TMT]\n    business_hours: {ourbus_hours}\n",
            1,
        )
    path = tmp_path / "socialdesk.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env=TEST_ENV)


def customer_wrote(clock: FakeClock, ticket: uuid.UUID) -> MessageReceived:
    return MessageReceived.model_validate(
        {
            **envelope(clock, ticket),
            "producer": "ingest",
            "message_id": uuid.uuid4(),
            "conversation_id": uuid.uuid4(),
            "customer_id": uuid.uuid4(),
            "brand": "ourbus",
            "platform": "x",
            "kind": "dm",
            "platform_message_id": uuid.uuid4().hex,
            "author": {"platform_user_id": "123"},
            "text": "any news?",
            "received_at": clock.now(),
            "opens_ticket": False,
        }
    )


def classified(clock: FakeClock, ticket: uuid.UUID, category: str) -> MessageClassified:
    return MessageClassified.model_validate(
        {
            **envelope(clock, ticket),
            "message_id": uuid.uuid4(),
            "conversation_id": uuid.uuid4(),
            "customer_id": uuid.uuid4(),
            "brand": "ourbus",
            "platform": "x",
            "kind": "mention",
            "received_at": clock.now(),
            "platform_message_id": uuid.uuid4().hex,
            "author_platform_user_id": "123",
            "queue": "cx",
            "category": category,
            "priority": "high",
            "sentiment": "negative",
            "language": "en",
        }
    )


def of(events: list[Event], kind: type[Event], ticket: uuid.UUID | None = None) -> list[Event]:
    return [e for e in events if isinstance(e, kind) and (ticket is None or e.ticket_id == ticket)]


async def test_pending_pauses_the_resolution_clock_until_the_customer_writes(
    fresh_db: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    t0 = clock.now()
    async with running(fresh_db, clock, config=config_with(tmp_path)) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))
        armed = of(await emitted(sla.svc, clocks=True), SlaClockArmed)
        assert {(e.clock, e.due_at) for e in armed} == {  # type: ignore[attr-defined]
            ("first_response", t0 + timedelta(seconds=4)),
            ("resolution", t0 + timedelta(seconds=10)),
        }
        clock.advance(seconds=1)
        await sla.handle(replied(clock, ticket))
        met = of(await emitted(sla.svc, clocks=True), SlaClockStopped)
        assert [(e.clock, e.outcome) for e in met] == [("first_response", "met")]  # type: ignore[attr-defined]
        clock.advance(seconds=2)
        await sla.handle(pending(clock, ticket))  # at 3 s: 7 s of the resolution target left
        (paused,) = of(await emitted(sla.svc, clocks=True), SlaClockStopped)
        assert (paused.clock, paused.outcome) == ("resolution", "paused")  # type: ignore[attr-defined]
        assert await sla.tick(60.0) == [], "a paused clock neither warns nor breaches"
        await sla.handle(customer_wrote(clock, ticket))  # at 63 s
        resumed = {e.clock: e.due_at for e in of(await emitted(sla.svc, clocks=True), SlaClockArmed)}  # type: ignore[attr-defined]
        assert resumed == {
            "resolution": t0 + timedelta(seconds=70),  # the 7 s it had left
            "next_response": t0 + timedelta(seconds=69),  # a message after an answer: 6 s
        }
        fired = await sla.tick(2.0)  # 65 s: resolution warns when half its 10 s is left
        assert [(type(e), e.metric) for e in fired] == [(SlaWarning, "resolution")]  # type: ignore[attr-defined]
        fired = await sla.tick(3.9)  # 68.9 s
        assert of(fired, SlaBreached) == []
        fired = await sla.tick(0.2)  # 69.1 s
        assert [e.metric for e in of(fired, SlaBreached)] == ["next_response"]  # type: ignore[attr-defined]
        fired = await sla.tick(1.0)  # 70.1 s
        assert [e.metric for e in of(fired, SlaBreached)] == ["resolution"]  # type: ignore[attr-defined]


def pending(clock: FakeClock, ticket: uuid.UUID) -> TicketPending:
    return TicketPending(
        **envelope(clock, ticket), brand="ourbus", platform="x", agent_id="ob-ana", pending_at=clock.now()
    )


async def test_each_customer_message_after_an_answer_starts_the_next_response_clock(
    fresh_db: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    async with running(fresh_db, clock, config=config_with(tmp_path)) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))
        clock.advance(seconds=0.5)
        await sla.handle(customer_wrote(clock, ticket))  # before any answer: first response still runs
        clock.advance(seconds=0.5)
        await sla.handle(replied(clock, ticket))
        await emitted(sla.svc)
        assert of(await sla.tick(5.0), SlaBreached) == [], "answered in time; no next message yet"
        await sla.handle(customer_wrote(clock, ticket))  # at 6 s
        clock.advance(seconds=2)
        await sla.handle(customer_wrote(clock, ticket))  # at 8 s: the 6 s message still waits
        (stopped,) = of(await emitted(sla.svc, clocks=True), SlaClockStopped) or [None]
        assert stopped is None
        await sla.handle(replied(clock, ticket))  # at 8 s: both answered
        met = of(await emitted(sla.svc, clocks=True), SlaClockStopped)
        assert [(e.clock, e.outcome) for e in met] == [("next_response", "met")]  # type: ignore[attr-defined]
        fired = await sla.tick(30.0)
        assert [e.metric for e in of(fired, SlaBreached)] == ["resolution"], "the next response was in time"  # type: ignore[attr-defined]
        await sla.handle(customer_wrote(clock, ticket))  # at 38 s: a new question
        assert of(await sla.tick(5.9), SlaBreached) == []
        fired = await sla.tick(0.2)
        assert [e.metric for e in of(fired, SlaBreached)] == ["next_response"]  # type: ignore[attr-defined]
        assert (
            sla.sample(
                "sla_monitor_breaches_total", brand="ourbus", metric="next_response", priority="medium"
            )
            == 1
        )


async def test_a_message_on_friday_evening_is_due_on_monday_morning(fresh_db: str, tmp_path: Path) -> None:
    # Friday 20 Nov 2026, 16:59:58 in London (UTC in winter); open 09:00-17:00 on weekdays.
    clock = FakeClock(datetime(2026, 11, 20, 16, 59, 58, tzinfo=UTC))
    async with running(fresh_db, clock, config=config_with(tmp_path, ourbus_hours="weekdays")) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))
        armed = {e.clock: e for e in of(await emitted(sla.svc, clocks=True), SlaClockArmed)}  # type: ignore[attr-defined]
        monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        assert armed["first_response"].due_at == monday + timedelta(seconds=2)  # type: ignore[attr-defined]
        friday_close = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
        assert armed["first_response"].warn_at == friday_close  # type: ignore[attr-defined]  # 2 s of 4 s
        assert armed["resolution"].due_at == monday + timedelta(seconds=8)  # type: ignore[attr-defined]
        assert await sla.tick(1.9) == []
        (warning,) = await sla.tick(0.2)  # 17:00:00.1: half the target is gone
        assert isinstance(warning, SlaWarning) and warning.remaining_seconds == pytest.approx(
            2 + 64 * 3600, abs=0.2
        )
        weekend = (monday - clock.now()).total_seconds()
        assert await sla.tick(weekend + 1.9) == [], "nothing over the weekend"
        fired = await sla.tick(0.2)  # Monday 09:00:02.1
        assert [e.metric for e in of(fired, SlaBreached)] == ["first_response"]  # type: ignore[attr-defined]


async def test_a_safety_ticket_has_its_own_target_and_starts_higher_on_the_ladder(
    fresh_db: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    async with running(fresh_db, clock, config=config_with(tmp_path)) as sla:
        ticket, other = uuid.uuid4(), uuid.uuid4()
        await sla.handle(classified(clock, ticket, "safety"), classified(clock, other, "query"))
        await sla.handle(assigned(clock, ticket), assigned(clock, other))
        fired = await sla.tick(1.1)
        (breach,) = of(fired, SlaBreached)
        assert breach.ticket_id == ticket
        (escalation,) = of(fired, TicketEscalated)
        assert (escalation.from_level, escalation.to_level, escalation.to_agent_id) == ("L1", "TMT", "ob-tmt")  # type: ignore[attr-defined]
        fired = await sla.tick(3.0)  # 4.1 s: the query's first response breaches, to the lead as usual
        (escalation,) = of(fired, TicketEscalated, other)
        assert escalation.to_level == "L3"  # type: ignore[attr-defined]


async def test_resolving_meets_the_resolution_clock_and_reopening_arms_both_again(
    fresh_db: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    async with running(fresh_db, clock, config=config_with(tmp_path)) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))
        clock.advance(seconds=1)
        await sla.handle(replied(clock, ticket))
        clock.advance(seconds=1)
        await sla.handle(resolved(clock, ticket))
        stopped = of(await emitted(sla.svc, clocks=True), SlaClockStopped)
        assert [(e.clock, e.outcome) for e in stopped][-1] == ("resolution", "met")  # type: ignore[attr-defined]
        assert sla.sample("sla_monitor_timers_met_total", metric="resolution", outcome="in_time") == 1
        assert await sla.tick(30.0) == []
        await sla.handle(reopened(clock, ticket, "customer_wrote"))
        armed = {e.clock: e.due_at for e in of(await emitted(sla.svc, clocks=True), SlaClockArmed)}  # type: ignore[attr-defined]
        assert armed == {
            "first_response": clock.now() + timedelta(seconds=4),
            "resolution": clock.now() + timedelta(seconds=10),
        }
        fired = await sla.tick(4.1)
        assert [e.metric for e in of(fired, SlaBreached)] == ["first_response"]  # type: ignore[attr-defined]


async def test_an_agents_reopening_arms_first_response_only_if_nobody_ever_answered(
    fresh_db: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    async with running(fresh_db, clock, config=config_with(tmp_path)) as sla:
        answered, never = uuid.uuid4(), uuid.uuid4()
        await sla.handle(assigned(clock, answered), assigned(clock, never))
        clock.advance(seconds=1)
        await sla.handle(replied(clock, answered))
        await sla.handle(resolved(clock, answered), resolved(clock, never))
        await emitted(sla.svc, clocks=True)
        clock.advance(seconds=30)

        await sla.handle(reopened(clock, answered, "agent"), reopened(clock, never, "agent"))
        armed = of(await emitted(sla.svc, clocks=True), SlaClockArmed)
        assert sorted((e.ticket_id == never, e.clock) for e in armed) == [  # type: ignore[attr-defined]
            (False, "resolution"),
            (True, "first_response"),
            (True, "resolution"),
        ]


def promised(clock: FakeClock, ticket: uuid.UUID, in_seconds: float) -> FollowUpPromised:
    return FollowUpPromised(
        **envelope(clock, ticket),
        follow_up_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        agent_id="ob-ana",
        due_at=clock.now() + timedelta(seconds=in_seconds),
        note="check the refund",
    )


async def test_a_promise_not_kept_reminds_its_owner_then_climbs_the_ladder(
    fresh_db: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    async with running(fresh_db, clock, config=config_with(tmp_path)) as sla:
        kept, broken = uuid.uuid4(), uuid.uuid4()
        await sla.handle(assigned(clock, kept), assigned(clock, broken))
        clock.advance(seconds=1)
        await sla.handle(replied(clock, kept), replied(clock, broken))
        await emitted(sla.svc)
        await sla.handle(promised(clock, kept, 5), promised(clock, broken, 5))
        armed = of(await emitted(sla.svc, clocks=True), SlaClockArmed)
        assert {(e.ticket_id, e.clock, e.due_at) for e in armed} == {  # type: ignore[attr-defined]
            (t, "follow_up", clock.now() + timedelta(seconds=5)) for t in (kept, broken)
        }
        clock.advance(seconds=2)
        await sla.handle(replied(clock, kept))  # news for the customer before the promised time
        fired = await sla.tick(2.9)  # 5.9 s
        assert of(fired, FollowUpDue) == []
        fired = await sla.tick(0.2)  # 6.1 s: the broken promise is due
        (due,) = of(fired, FollowUpDue)
        assert (due.ticket_id, due.agent_id) == (broken, "ob-ana")  # type: ignore[attr-defined]
        assert of(fired, TicketEscalated) == [], "the owner is reminded first"
        fired = await sla.tick(6.0)  # one rung delay (6 s, the next-response target) later
        (climb,) = [e for e in of(fired, TicketEscalated, broken) if "follow-up" in e.reason]  # type: ignore[attr-defined]
        assert (climb.to_level, climb.to_agent_id) == ("L3", "ob-lead")  # type: ignore[attr-defined]  # as a breach
        assert of(fired, FollowUpDue) == []


async def test_metrics_count_armed_clocks_the_oldest_overdue_and_breaches_by_brand(
    fresh_db: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    async with running(fresh_db, clock, config=config_with(tmp_path)) as sla:
        ticket, other = uuid.uuid4(), uuid.uuid4()
        await sla.handle(assigned(clock, ticket), assigned(clock, other))
        clock.advance(seconds=1)
        await sla.handle(replied(clock, other))
        await sla.scheduler.refresh_gauge()
        assert sla.sample("sla_monitor_timers_armed", metric="first_response") == 1
        assert sla.sample("sla_monitor_timers_armed", metric="resolution") == 2
        assert sla.sample("sla_monitor_oldest_overdue_seconds") == 0
        await sla.tick(4.0)  # 5 s: the first response of one ticket is 1 s overdue (breached)
        await sla.scheduler.refresh_gauge()
        assert sla.sample("sla_monitor_oldest_overdue_seconds") == pytest.approx(1.0)
        assert (
            sla.sample(
                "sla_monitor_breaches_total", brand="ourbus", metric="first_response", priority="medium"
            )
            == 1
        )
        assert sla.sample("sla_monitor_fire_lateness_seconds_count") >= 2  # a warning and a breach


async def test_a_classification_read_after_the_assignment_retargets_the_running_clocks(
    fresh_db: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    t0 = clock.now()
    async with running(fresh_db, clock, config=config_with(tmp_path)) as sla:
        ticket = uuid.uuid4()
        await sla.handle(assigned(clock, ticket))  # armed for 4 s: nothing known of it yet
        await emitted(sla.svc)
        clock.advance(seconds=0.5)
        await sla.handle(classified(clock, ticket, "safety"))  # the safety policy: 1 s
        moved = {e.clock: e.due_at for e in of(await emitted(sla.svc, clocks=True), SlaClockArmed)}  # type: ignore[attr-defined]
        assert moved["first_response"] == t0 + timedelta(seconds=1), "from the same start"
        fired = await sla.tick(0.6)  # 1.1 s
        (escalation,) = of(fired, TicketEscalated)
        assert escalation.to_level == "TMT", "and the safety ladder"  # type: ignore[attr-defined]
