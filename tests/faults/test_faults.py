"""Fault scenarios: each hurts the running stack during a replay, then the checker judges.

Scale: ``make faults`` (``SOCIALDESK_FAULTS=full``) runs the issue's figures; the
``faults_ci`` subset runs small in ``make test``.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from socialdesk_runtime.stack.services import STACK_SERVICES
from tests.faults.checker import Verdict, check
from tests.faults.conftest import FULL
from tests.faults.stack import FaultStack, fault_stack, settle
from tests.faults.traffic import Traffic

pytestmark = [pytest.mark.faults, pytest.mark.e2e]


def _traffic(stack: FaultStack, *, count: int, rate: float, answer_share: float = 0.3) -> Traffic:
    return Traffic(
        stack.url("ingest"), stack.url("assigner"), count=count, rate=rate, answer_share=answer_share
    ).start()


def _judge(
    stack: FaultStack, traffic: Traffic, fault: str, record: list[Verdict], *, settle_s: float = 180.0
) -> None:
    verdict = check(stack, traffic, fault, settle_s=settle_s)
    record.append(verdict)
    print(verdict.line())
    assert verdict.accepted > 0
    assert verdict.lost == 0 and verdict.doubled == 0 and verdict.wrong == 0, (
        f"{verdict.line()}\n{verdict.explain()}"
    )


@pytest.mark.faults_ci
def test_services_sigkilled_at_random_points_lose_and_double_nothing(record_verdict: list[Verdict]) -> None:
    cycles = 100 if FULL else 8
    rng = random.Random(20261128)
    names = [s.name for s in STACK_SERVICES]
    with fault_stack() as stack:
        traffic = _traffic(stack, count=int(cycles * 1.6 * 6), rate=6.0)
        killed = 0
        try:
            for _ in range(cycles):
                settle(rng.uniform(0.1, 1.2))  # a random point in the replay
                name = rng.choice(names)
                stack.supervisor.kill(name)
                settle(rng.uniform(0.05, 0.6))
                stack.supervisor.restart(name)
                killed += 1
            traffic.join(timeout=600)
        finally:
            traffic.stop()
        assert killed == cycles
        _judge(stack, traffic, f"sigkill x{cycles}", record_verdict)


@pytest.mark.faults_ci
def test_broker_sigkilled_and_restarted_empty_loses_nothing(record_verdict: list[Verdict]) -> None:
    # Every unanswered ticket is paged at Slack's pace (about 1 a second in the lead's
    # channel): in `make test` fewer messages, most of them after the restart.
    count, before = (120, 5.0) if FULL else (70, 3.0)
    with fault_stack() as stack:
        traffic = _traffic(stack, count=count, rate=10.0)
        try:
            settle(before)  # some messages in, some mid-way through the services
            stack.kill_broker_and_restart_empty()
            traffic.join(timeout=300)
        finally:
            traffic.stop()
        _judge(stack, traffic, "broker restarted empty", record_verdict)


def test_broker_stalled_then_resumed_loses_nothing(record_verdict: list[Verdict]) -> None:
    with fault_stack() as stack:
        traffic = _traffic(stack, count=150, rate=5.0)
        try:
            settle(4.0)
            with stack.broker_stalled():
                settle(30.0)
            traffic.join(timeout=300)
        finally:
            traffic.stop()
        _judge(stack, traffic, "broker stalled 30s", record_verdict)


def test_postgres_restarted_loses_nothing(record_verdict: list[Verdict]) -> None:
    with fault_stack() as stack:
        traffic = _traffic(stack, count=120, rate=6.0)
        try:
            settle(5.0)
            stack.restart_postgres()
            traffic.join(timeout=300)
        finally:
            traffic.stop()
        _judge(stack, traffic, "postgres restarted", record_verdict)


def test_slack_down_ten_minutes_then_a_429_storm_pages_everyone_once(record_verdict: list[Verdict]) -> None:
    # The ten minutes; SOCIALDESK_FAULTS_SLACK_OUTAGE_S shortens it for a quick look.
    outage = float(os.environ.get("SOCIALDESK_FAULTS_SLACK_OUTAGE_S") or (600.0 if FULL else 20.0))
    with fault_stack() as stack:
        stack.slack.down_for(outage)
        traffic = _traffic(stack, count=60, rate=4.0)
        try:
            deadline = time.monotonic() + outage
            traffic.join(timeout=300)
            settle(max(0.0, deadline - time.monotonic()))
            stack.slack.rate_limit_next(200, retry_after=1)  # the storm, as Slack answers it
        finally:
            traffic.stop()
        # After a long outage the notifier's next attempt of a page can be up to its
        # backoff cap (5 minutes) away: give it that, the storm, and a margin.
        _judge(stack, traffic, f"slack down {outage:.0f}s then 429 storm", record_verdict, settle_s=420.0)
        statuses = {c.status for c in stack.slack.calls}
        assert {503, 429} <= statuses, f"the outage and the storm were both felt: {statuses}"


def test_platform_send_api_throttling_sends_every_reply_once(record_verdict: list[Verdict]) -> None:
    """X's DM endpoint throttles (a small per-window limit, then 429 bursts): every reply
    the desk accepted still reaches its customer once, none twice."""
    count = 240 if FULL else 60  # make faults only: ~4 minutes even small (the SLA settle)
    with fault_stack(x_options={"dm_limit": 5, "window_seconds": 3}) as stack:
        traffic = _traffic(stack, count=count, rate=6.0, answer_share=0.6)
        try:
            for _ in range(6 if FULL else 2):
                settle(4.0)
                stack.x.rate_limit_next(20, retry_after=2, kind="dm")
            traffic.join(timeout=600)
        finally:
            traffic.stop()
        _judge(stack, traffic, "platform send API throttling", record_verdict)
        assert any(c.reply.status == 429 for c in stack.x.calls), "the throttling was felt"
