"""Hot topics and crisis spikes: pure, time-injected stream detectors.

Both classes are fed one classified post at a time, ``observe(brand, created_at, sentiment,
group_id)``, and return a signal or ``None``. They never read the clock: ``created_at`` is
the time, so a faust agent, our own consumer loop, a replay and a unit test all get the same
answers. State is bounded (fixed-size buckets per brand; groups expire).

* :class:`TrendDetector`: a group's volume in the last window reached ``min_volume`` and grew
  ``growth_ratio`` times over the window before: the incident is heating up (feeds SLA
  tightening for its tickets).
* :class:`SpikeDetector`: per brand, the count of negative posts in a short sliding window
  against a learned baseline. The baseline is an EWMA of per-bucket negatives and volume, and
  a 24-slot hour-of-day profile learned across days, so the evening peak is not a crisis and
  the 3 a.m. trough does not make every post look like one. The deviation is a
  Poisson-style z-score; severity minor / major / critical by threshold. Evaluated on every
  post (not on bucket close), so a burst is flagged within seconds of reaching significance.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from socialdesk_classifier.nlp.settings import SpikeSettings, TrendSettings

__all__ = ["SpikeDetector", "SpikeSignal", "TrendDetector", "TrendSignal"]

_SEVERITY_RANK = {"minor": 1, "major": 2, "critical": 3}


@dataclass(frozen=True, slots=True)
class TrendSignal:
    """An incident group heating up; published as ``TrendDetected`` (:meth:`as_event_fields`)."""

    brand: str
    group_id: str
    volume: int
    window_seconds: int
    previous_volume: int
    detected_at: datetime

    def as_event_fields(self) -> dict[str, Any]:
        """The ``TrendDetected`` fields this signal fills."""
        return {
            "brand": self.brand,
            "group_id": self.group_id,
            "volume": self.volume,
            "window_seconds": self.window_seconds,
        }


@dataclass(frozen=True, slots=True)
class SpikeSignal:
    """A brand's negative volume spiking; published as ``SpikeDetected`` (:meth:`as_event_fields`)."""

    brand: str
    severity: str
    volume: int
    baseline_volume: float
    negative_share: float
    baseline_negative_share: float
    window_seconds: int
    score: float
    detected_at: datetime

    def as_event_fields(self) -> dict[str, Any]:
        """The ``SpikeDetected`` fields this signal fills (shares are capped at 1)."""
        return {
            "brand": self.brand,
            "severity": self.severity,
            "volume": self.volume,
            "baseline_volume": self.baseline_volume,
            "negative_share": min(1.0, self.negative_share),
            "baseline_negative_share": min(1.0, self.baseline_negative_share),
            "window_seconds": self.window_seconds,
            "score": self.score,
        }


# --------------------------------------------------------------------------- trends
@dataclass(slots=True)
class _GroupTrend:
    brand: str
    times: deque[float] = field(default_factory=deque)
    last_signal: float = -math.inf


class TrendDetector:
    """Detects incident groups whose volume is rising."""

    def __init__(self, settings: TrendSettings | None = None, *, max_groups: int = 10_000) -> None:
        self._s = settings or TrendSettings()
        self._groups: dict[str, _GroupTrend] = {}
        self._max_groups = max_groups

    def __len__(self) -> int:
        return len(self._groups)

    def observe(
        self, brand: str, created_at: datetime, sentiment: str, group_id: str | None
    ) -> TrendSignal | None:
        """Feed one post; returns a signal when its group starts trending."""
        del sentiment  # any tone counts towards a hot topic
        if group_id is None:
            return None
        now = created_at.timestamp()
        window = self._s.window_seconds
        state = self._groups.get(group_id)
        if state is None:
            if len(self._groups) >= self._max_groups:
                self._expire(now)
            state = self._groups[group_id] = _GroupTrend(brand)
        state.times.append(now)
        while state.times and state.times[0] < now - 2 * window:
            state.times.popleft()
        current = sum(1 for t in state.times if t > now - window)
        previous = len(state.times) - current
        if current < self._s.min_volume:
            return None
        if current < self._s.growth_ratio * max(previous, 1):
            return None
        if now - state.last_signal < self._s.cooldown_seconds:
            return None
        state.last_signal = now
        return TrendSignal(brand, group_id, current, window, previous, created_at)

    def _expire(self, now: float) -> None:
        horizon = 2 * self._s.window_seconds
        stale = [g for g, s in self._groups.items() if not s.times or s.times[-1] < now - horizon]
        for g in stale:
            del self._groups[g]
        if len(self._groups) >= self._max_groups:  # still full: drop the quietest half
            by_last = sorted(self._groups, key=lambda g: self._groups[g].times[-1])
            for g in by_last[: len(by_last) // 2]:
                del self._groups[g]


# --------------------------------------------------------------------------- spikes
@dataclass(slots=True)
class _BrandState:
    bucket: int  # index of the open bucket
    counts: deque[tuple[int, int]]  # closed buckets (volume, negatives), newest last
    open_volume: int = 0
    open_negative: int = 0
    ewma_volume: float = 0.0
    ewma_negative: float = 0.0
    ewma_var_negative: float = 0.0
    hour_volume: list[float] = field(default_factory=lambda: [0.0] * 24)
    hour_negative: list[float] = field(default_factory=lambda: [0.0] * 24)
    hour_seen: list[int] = field(default_factory=lambda: [0] * 24)
    buckets_seen: int = 0
    last_signal_at: float = -math.inf
    last_severity: int = 0


class SpikeDetector:
    """Per-brand negative-volume spike detection against a learned, rhythm-aware baseline."""

    def __init__(self, settings: SpikeSettings | None = None) -> None:
        self._s = settings or SpikeSettings()
        self._brands: dict[str, _BrandState] = {}
        self._buckets_per_hour = max(1, 3600 // self._s.bucket_seconds)

    def baseline(self, brand: str) -> tuple[float, float]:
        """Current expected (volume, negatives) per bucket for ``brand`` (for dashboards/tests)."""
        st = self._brands.get(brand)
        return (st.ewma_volume, st.ewma_negative) if st else (0.0, 0.0)

    def _hour(self, bucket: int) -> int:
        return (bucket * self._s.bucket_seconds // 3600) % 24

    def _close_bucket(self, st: _BrandState, volume: int, negative: int) -> None:
        s = self._s
        hour = self._hour(st.bucket)
        exp_v, exp_n = self._expected(st, hour)
        # Robust update: a burst must not teach the baseline that bursts are normal.
        cap_n = exp_n + 3.0 * math.sqrt(exp_n + st.ewma_var_negative + 1.0)
        neg = min(float(negative), cap_n)
        vol = min(float(volume), exp_v + 3.0 * math.sqrt(exp_v + 1.0) + (negative - neg))
        if st.buckets_seen == 0:
            st.ewma_volume, st.ewma_negative = vol, neg
        else:
            dev = neg - st.ewma_negative
            st.ewma_var_negative = (1 - s.alpha) * st.ewma_var_negative + s.alpha * dev * dev
            st.ewma_volume += s.alpha * (vol - st.ewma_volume)
            st.ewma_negative += s.alpha * dev
        # Hour-of-day profile: one slow EWMA per hour slot, updated per bucket in that hour.
        a = s.hour_alpha / self._buckets_per_hour
        if st.hour_seen[hour] == 0:
            st.hour_volume[hour], st.hour_negative[hour] = vol, neg
        else:
            st.hour_volume[hour] += a * (vol - st.hour_volume[hour])
            st.hour_negative[hour] += a * (neg - st.hour_negative[hour])
        st.hour_seen[hour] += 1
        st.buckets_seen += 1
        st.counts.append((volume, negative))

    def _expected(self, st: _BrandState, hour: int) -> tuple[float, float]:
        # The profile only counts once the slot has a day's worth of buckets behind it.
        if st.hour_seen[hour] >= self._buckets_per_hour:
            return (
                max(st.ewma_volume, st.hour_volume[hour]),
                max(st.ewma_negative, st.hour_negative[hour]),
            )
        return st.ewma_volume, st.ewma_negative

    def observe(
        self, brand: str, created_at: datetime, sentiment: str, group_id: str | None = None
    ) -> SpikeSignal | None:
        """Feed one post; returns a signal when the brand's negative volume spikes."""
        del group_id  # spikes are per brand; the group feeds the TrendDetector
        s = self._s
        now = created_at.timestamp()
        bucket = int(now // s.bucket_seconds)
        st = self._brands.get(brand)
        if st is None:
            st = self._brands[brand] = _BrandState(bucket, deque(maxlen=s.window_buckets))
        if bucket > st.bucket:
            self._close_bucket(st, st.open_volume, st.open_negative)
            # Empty buckets in between (quiet night): at most a day's worth, to bound work.
            gap = min(bucket - st.bucket - 1, 24 * self._buckets_per_hour)
            for k in range(gap):
                st.bucket = bucket - gap + k
                self._close_bucket(st, 0, 0)
            st.bucket, st.open_volume, st.open_negative = bucket, 0, 0
        st.open_volume += 1
        st.open_negative += sentiment == "negative"
        return self._evaluate(brand, st, created_at, now)

    def _evaluate(self, brand: str, st: _BrandState, created_at: datetime, now: float) -> SpikeSignal | None:
        s = self._s
        if st.buckets_seen < s.warmup_buckets or st.open_negative == 0:
            return None
        # Window: the open bucket plus the last (window_buckets - 1) closed ones.
        recent = list(st.counts)[-(s.window_buckets - 1) :] if s.window_buckets > 1 else []
        volume = st.open_volume + sum(v for v, _ in recent)
        negative = st.open_negative + sum(n for _, n in recent)
        n_buckets = 1 + len(recent)
        exp_v, exp_n = self._expected(st, self._hour(st.bucket))
        exp_neg = exp_n * n_buckets
        exp_vol = exp_v * n_buckets
        if negative < s.min_negative:
            return None
        var = exp_neg + st.ewma_var_negative * n_buckets + 1.0
        z = (negative - exp_neg) / math.sqrt(var)
        severity = 0
        if z >= s.critical_z:
            severity = 3
        elif z >= s.major_z:
            severity = 2
        elif z >= s.minor_z:
            severity = 1
        if severity == 0:
            return None
        in_cooldown = now - st.last_signal_at < s.cooldown_seconds
        if in_cooldown and severity <= st.last_severity:
            return None
        st.last_signal_at = now
        st.last_severity = severity
        name = {1: "minor", 2: "major", 3: "critical"}[severity]
        base_share = exp_n / exp_v if exp_v > 0 else 0.0
        return SpikeSignal(
            brand=brand,
            severity=name,
            volume=volume,
            baseline_volume=round(exp_vol, 3),
            negative_share=round(negative / volume, 4) if volume else 0.0,
            baseline_negative_share=round(min(1.0, base_share), 4),
            window_seconds=n_buckets * s.bucket_seconds,
            score=round(z, 3),
            detected_at=created_at,
        )
