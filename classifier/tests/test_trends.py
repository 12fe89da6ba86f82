"""Spike and trend detectors, driven by an injected clock (post timestamps)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from socialdesk_classifier.nlp import SpikeDetector, SpikeSettings, TrendDetector, TrendSettings

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday, midnight UTC


def _rate_per_min(t: datetime) -> float:
    """A bus brand's daily rhythm: quiet at night, morning and evening peaks (posts/min)."""
    h = t.hour + t.minute / 60
    morning = math.exp(-(((h - 8.5) / 1.5) ** 2))
    evening = math.exp(-(((h - 18.0) / 2.0) ** 2))
    return 0.1 + 2.5 * morning + 3.5 * evening + 0.8 * (7 <= h <= 22)


def _calm_traffic(rng: random.Random, start: datetime, days: float) -> list[tuple[datetime, str]]:
    """Poisson arrivals following the rhythm; about a quarter of posts negative."""
    out: list[tuple[datetime, str]] = []
    t = start
    end = start + timedelta(days=days)
    while t < end:
        # Thinning: draw at the peak rate, keep with probability rate(t)/peak.
        t += timedelta(seconds=rng.expovariate(7.0 / 60))
        if rng.random() < _rate_per_min(t) / 7.0:
            out.append((t, "negative" if rng.random() < 0.25 else rng.choice(["neutral", "positive"])))
    return out


def test_calm_days_with_daily_rhythm_raise_no_spike() -> None:
    detector = SpikeDetector(SpikeSettings())
    rng = random.Random(7)
    traffic = _calm_traffic(rng, START, days=3)
    assert len(traffic) > 5000  # a realistic volume, peaks and troughs included
    signals = [s for t, sent in traffic if (s := detector.observe("ourbus", t, sent, None))]
    assert signals == []


def test_negative_burst_raises_spike_within_60s() -> None:
    detector = SpikeDetector(SpikeSettings())
    rng = random.Random(11)
    # A calm day to learn the baseline, then at 14:00 an incident: 1 negative post every 4 s.
    traffic = _calm_traffic(rng, START, days=1.58)
    burst_start = START + timedelta(days=1, hours=14)
    burst = [(burst_start + timedelta(seconds=4 * i), "negative") for i in range(45)]
    events = sorted([e for e in traffic if e[0] < burst_start + timedelta(minutes=5)] + burst)
    signals = []
    for t, sent in events:
        s = detector.observe("rally", t, sent, "g-incident")
        if s is not None:
            signals.append(s)
    assert signals, "the burst must raise a spike"
    first = signals[0]
    assert first.detected_at >= burst_start  # no false alarm during the calm day
    assert (first.detected_at - burst_start).total_seconds() <= 60
    assert first.brand == "rally"
    assert first.negative_share > first.baseline_negative_share
    # A growing burst escalates severity rather than repeating the same alert.
    severities = [s.severity for s in signals]
    assert severities == sorted(severities, key=["minor", "major", "critical"].index)
    assert severities[-1] in ("major", "critical")


def test_spikes_are_per_brand() -> None:
    detector = SpikeDetector(SpikeSettings(warmup_buckets=0))
    t = START
    for i in range(120):  # an hour of quiet OurBus traffic
        detector.observe("ourbus", t + timedelta(seconds=30 * i), "neutral", None)
    t += timedelta(hours=1)
    got = [detector.observe("rally", t + timedelta(seconds=i), "negative", None) for i in range(20)]
    # Rally has no baseline yet (never seen): its first post opens its own state,
    # and OurBus's calm baseline is untouched.
    assert detector.baseline("ourbus")[1] == 0.0
    assert all(g is None or g.brand == "rally" for g in got)


def test_trend_fires_when_group_volume_rises_and_respects_cooldown() -> None:
    trends = TrendDetector(TrendSettings(window_seconds=600, min_volume=4, growth_ratio=2.0))
    t = START
    # A trickle: one post every 10 minutes for an hour is not a trend.
    trickle = [trends.observe("ourbus", t + timedelta(minutes=10 * i), "negative", "g1") for i in range(6)]
    assert trickle == [None] * 6
    t += timedelta(hours=1)
    rising = [trends.observe("ourbus", t + timedelta(seconds=60 * i), "negative", "g1") for i in range(6)]
    fired = [r for r in rising if r is not None]
    assert len(fired) == 1  # once, then cooldown
    assert fired[0].group_id == "g1"
    assert fired[0].volume >= 4
    assert fired[0].volume >= 2 * max(fired[0].previous_volume, 1)


def test_trend_ignores_ungrouped_posts_and_bounds_memory() -> None:
    trends = TrendDetector(TrendSettings(), max_groups=50)
    assert trends.observe("ourbus", START, "negative", None) is None
    for i in range(500):
        trends.observe("ourbus", START + timedelta(minutes=i), "neutral", f"g{i}")
    assert len(trends) <= 50
