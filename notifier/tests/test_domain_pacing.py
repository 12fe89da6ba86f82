"""Pacing's slot arithmetic (no IO, time passed in): spacing per lane and per recipient,
refusals that reserve nothing, holds and rate cuts after a throttle, and sends that may go
ahead of a lane's queue without raising its long-run rate."""

from __future__ import annotations

import pytest

from socialdesk_notifier.domain.pacing import Ask, Lane, Pace, Turn, held, reserve, sent, throttled

T = 100.0


def run(lane: Lane, pace: Pace, *asks: Ask) -> tuple[list[Turn], Lane]:
    turns = []
    for ask in asks:
        turn, lane = reserve(lane, pace, ask)
        turns.append(turn)
    return turns, lane


def test_sends_are_spaced_per_lane_and_per_recipient() -> None:
    pace = Pace(ceiling=2, recipient_interval=1.0)
    turns, _ = run(
        Lane(),
        pace,
        Ask(now=T, max_wait=10, recipient="a"),
        Ask(now=T, max_wait=10, recipient="b"),
        Ask(now=T, max_wait=10, recipient="a"),
    )
    assert [t.wait for t in turns] == [0, 0.5, 1.0]
    assert reserve(Lane(), pace, Ask(now=T, max_wait=10, recipient="a"))[0].wait == 0, "another lane"


def test_a_slot_further_than_max_wait_is_refused_and_reserves_nothing() -> None:
    pace = Pace(ceiling=1)
    lane = throttled(Lane(), pace, now=T, hold=30)
    turn, after = reserve(lane, pace, Ask(now=T, max_wait=5, recipient="a"))
    assert (turn.granted, turn.wait) == (False, 30), "it says how long until its turn"
    assert after == lane
    assert reserve(lane, pace, Ask(now=T + 30, max_wait=5, recipient="a"))[0] == Turn(True, 0, 1)


def test_a_throttle_halves_an_adaptive_rate_and_clean_sends_bring_it_back() -> None:
    pace = Pace(ceiling=20, adaptive=True)
    lane = throttled(Lane(), pace, now=T, hold=0)
    assert reserve(lane, pace, Ask(now=T, max_wait=1))[0].rate == 10
    for _ in range(7):
        lane = sent(lane, pace)
    assert lane.rate == pytest.approx(10 * 1.1**7)
    lane = sent(lane, pace)
    assert lane.rate is None, "back at the ceiling"
    fixed = throttled(Lane(), Pace(ceiling=1 / 1.1), now=T, hold=2)
    assert fixed.rate is None and fixed.next_at == T + 2, "a Slack channel is held, never cut"


def test_a_burst_of_throttles_cuts_once_and_an_explicit_reset_not_at_all() -> None:
    pace = Pace(ceiling=20, adaptive=True)
    lane = Lane()
    for _ in range(20):  # 429s answered to sends already in flight: one overload
        lane = throttled(lane, pace, now=T, hold=0)
    assert lane.rate == 10
    lane = throttled(lane, pace, now=T + 1, hold=0)
    assert lane.rate == 5
    for i in range(10):
        lane = throttled(lane, pace, now=T + 2 + i, hold=0)
    assert lane.rate == pytest.approx(20 / 64), "never below 1/64 of the ceiling"
    # X says when its window resets: wait for it, keep the rate.
    x = throttled(Lane(), pace, now=T, hold=2, explicit=True)
    assert x.rate is None
    assert not reserve(x, pace, Ask(now=T, max_wait=1, recipient="a"))[0].granted
    assert reserve(x, pace, Ask(now=T + 2, max_wait=1, recipient="a"))[0].wait == 0


def test_a_pair_throttle_holds_only_that_recipient() -> None:
    pace = Pace(ceiling=100, adaptive=True)
    lane = throttled(Lane(), pace, now=T, hold=6, recipient="wa1")
    assert lane.rate is None and lane.recipients == {"wa1": T + 6}
    assert not reserve(lane, pace, Ask(now=T, max_wait=1, recipient="wa1"))[0].granted
    assert reserve(lane, pace, Ask(now=T, max_wait=1, recipient="wa2"))[0].wait == 0


def test_a_hold_tells_how_long_a_refused_send_must_wait() -> None:
    pace = Pace(ceiling=10)
    lane = held(Lane(), now=T, seconds=12.5)
    assert reserve(lane, pace, Ask(now=T, max_wait=5, recipient="a"))[0] == Turn(False, 12.5, 10)
    assert held(lane, now=T, seconds=1).next_at == T + 12.5, "a shorter hold shortens nothing"


def test_only_recipients_whose_slot_is_ahead_are_kept() -> None:
    pace = Pace(ceiling=100, recipient_interval=1.0)
    _, lane = run(Lane(), pace, *(Ask(now=T + i * 0.5, max_wait=5, recipient=f"r{i}") for i in range(10)))
    assert set(lane.recipients) == {"r8", "r9"}, "an account's row stays as small as its last second"


def test_a_send_allowed_ahead_skips_the_queue_but_still_takes_a_slot() -> None:
    """A click's chat.update while routine updates fill the next 6 s of the budget."""
    pace = Pace(ceiling=1.0)
    turns, lane = run(Lane(), pace, *(Ask(now=T, max_wait=6) for _ in range(6)))
    assert [t.wait for t in turns] == [0, 1, 2, 3, 4, 5]
    click, lane = reserve(lane, pace, Ask(now=T, max_wait=6, ahead=6))
    assert (click.granted, click.wait) == (True, 0)
    routine, lane = reserve(lane, pace, Ask(now=T, max_wait=10))
    assert routine.wait == 7, "the routine ones behind it move one slot on: the rate holds over time"
    # Over any long window the lane grants at most its rate (plus what went ahead once).
    _, idle = run(Lane(), pace, *(Ask(now=T + i, max_wait=0, ahead=3) for i in range(5)))
    assert idle.next_at == T + 5


def test_a_recipient_waiting_for_its_turn_holds_the_account_lane_behind_it() -> None:
    """The account's next slot follows the send that waited for its recipient: never two
    sends of one account closer than its spacing, whatever each waited for."""
    pace = Pace(ceiling=10, recipient_interval=1.0)
    turns, _ = run(
        Lane(),
        pace,
        Ask(now=T, max_wait=5, recipient="a"),
        Ask(now=T, max_wait=5, recipient="a"),
        Ask(now=T, max_wait=5, recipient="b"),
    )
    assert [t.wait for t in turns] == [0, 1.0, pytest.approx(1.1)]
