"""The acknowledgement-first pacing of extraction (time passed in, no sleeps)."""

from __future__ import annotations

import pytest

from socialdesk_ingest.domain.ack_first import AckFirst, next_claim


def test_nothing_waiting_extracts_at_once() -> None:
    assert AckFirst(quiet=0.05, max_lag=30).wait(100.0) == 0.0


def test_a_burst_holds_extraction_until_a_quiet_moment() -> None:
    pace = AckFirst(quiet=0.05, max_lag=30)
    for i in range(100):
        pace.stored(100.0 + i * 0.002)
    last = pace.last_stored
    assert pace.wait(last + 0.01) == pytest.approx(0.04)
    assert pace.wait(last + 0.051) == 0.0


def test_the_oldest_delivery_never_waits_longer_than_max_lag() -> None:
    pace = AckFirst(quiet=0.05, max_lag=2.0)
    pace.stored(10.0)
    pace.stored(11.99)
    assert pace.wait(11.995) == pytest.approx(0.005)  # the lag left, not the quiet time
    pace.stored(12.0)
    assert pace.wait(12.0) == 0.0  # overdue: the flood does not hold it back any more


def test_once_overdue_extraction_continues_until_caught_up() -> None:
    pace = AckFirst(quiet=0.05, max_lag=2.0)
    for i in range(5000):  # a sustained flood: a delivery every 2 ms for 10 s
        t = i * 0.002
        pace.stored(t)
        if t >= 2.0:
            assert pace.wait(t) == 0.0  # never waits again while the backlog lasts
    pace.caught_up(claimed_at=9.0)  # deliveries came after this round began: still waiting
    assert pace.oldest_waiting == 9.0
    assert pace.wait(10.0) == pytest.approx(0.048)  # counted from 9.0: not overdue yet
    assert pace.wait(11.0) == 0.0
    pace.caught_up(claimed_at=11.0)
    assert pace.oldest_waiting is None
    pace.stored(20.0)
    assert pace.wait(20.0) == pytest.approx(0.05)  # a new burst starts a new lag


def test_a_delivery_being_acknowledged_keeps_the_burst_going_within_the_lag() -> None:
    pace = AckFirst(quiet=0.05, max_lag=2.0)
    pace.stored(0.0)
    assert pace.wait(0.5) == 0.0  # quiet for 0.5 s: extract
    assert pace.wait(0.5, acknowledging=True) == pytest.approx(0.05)  # one in flight: not yet
    assert pace.wait(2.0, acknowledging=True) == 0.0  # but never past the lag


def test_a_backlog_is_claimed_in_growing_batches_up_to_the_most_and_back_to_base_once_caught_up() -> None:
    sizes = [100]
    for _ in range(5):
        sizes.append(next_claim(sizes[-1], sizes[-1], base=100, most=500))
    assert sizes == [100, 200, 400, 500, 500, 500]
    assert next_claim(37, 500, base=100, most=500) == 100
    assert next_claim(100, 100, base=100, most=100) == 100
