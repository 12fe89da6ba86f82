"""The figures of a load run: latency percentiles and throughput from what was sent and seen.

``sent`` is every intake request of a run (:class:`tests.bench.load.Sent`); ``seen`` maps a
ticket id to when its ``TicketAssigned`` arrived and how it was routed, as
:class:`tests.bench.load.AssignmentWatcher` records it. A message accepted but never seen
counts as an infinite latency, so a lost message makes the percentiles worse.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tests.bench.load import Sent

__all__ = ["LatencyResult", "ThroughputResult", "latency_result", "percentile", "throughput_result"]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of an ascending sequence; NaN if empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _latencies_ms(sent: Sequence[Sent], seen: dict[str, tuple[float, str]]) -> tuple[list[float], int]:
    """Each accepted message's latency (ms), ascending, with every one never seen as +inf:
    a lost message must make the percentiles worse, not vanish from them."""
    out: list[float] = []
    missing = 0
    for s in sent:
        if s.ticket_id is None:
            continue
        hit = seen.get(s.ticket_id)
        if hit is None:
            missing += 1
            out.append(math.inf)
        else:
            out.append((hit[0] - s.started) * 1000)
    out.sort()
    return out, missing


def _errors(sent: Sequence[Sent]) -> dict[str, int]:
    """Refused requests by reason (first 80 characters), so a failing run says why."""
    return dict(Counter((s.error or "no ticket id")[:80] for s in sent if s.ticket_id is None))


def _routed(sent: Sequence[Sent], seen: dict[str, tuple[float, str]]) -> dict[str, int]:
    kinds = Counter(seen[s.ticket_id][1] for s in sent if s.ticket_id is not None and s.ticket_id in seen)
    return dict(kinds)


@dataclass(frozen=True, slots=True)
class LatencyResult:
    """Open-loop run at a fixed offered rate."""

    offered_rate: float
    duration_s: float
    offered: int
    accepted: int
    failed: int
    completed: int
    missing: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    intake_p99_ms: float
    schedule_lag_max_ms: float
    routed: dict[str, int]
    errors: dict[str, int]


def latency_result(
    sent: Sequence[Sent], seen: dict[str, tuple[float, str]], *, rate: float, duration_s: float, lag_s: float
) -> LatencyResult:
    latencies, missing = _latencies_ms(sent, seen)
    intake = sorted((s.answered - s.started) * 1000 for s in sent if s.ticket_id is not None)
    return LatencyResult(
        offered_rate=rate,
        duration_s=duration_s,
        offered=len(sent),
        accepted=len(latencies),
        failed=len(sent) - len(latencies),
        completed=len(latencies) - missing,
        missing=missing,
        p50_ms=percentile(latencies, 0.50),
        p90_ms=percentile(latencies, 0.90),
        p99_ms=percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else math.nan,
        intake_p99_ms=percentile(intake, 0.99),
        schedule_lag_max_ms=lag_s * 1000,
        routed=_routed(sent, seen),
        errors=_errors(sent),
    )


@dataclass(frozen=True, slots=True)
class ThroughputResult:
    """Closed-loop run: as many messages as fast as intake takes them."""

    offered: int
    accepted: int
    failed: int
    completed: int
    missing: int
    concurrency: int
    intake_msgs_per_s: float
    """Accepted messages per second, first request start to last answer."""
    e2e_msgs_per_s: float
    """Assignments per second over the steady window (see :func:`throughput_result`)."""
    e2e_overall_msgs_per_s: float
    """Assignments over the whole run, first request start to last assignment seen."""
    backlog_at_intake_end: int
    """Accepted but not yet assigned when intake answered its last request."""
    intake_s: float
    drain_s: float
    p50_ms: float
    p99_ms: float
    routed: dict[str, int]
    errors: dict[str, int]


#: The steady window leaves out the first and last tenth of the completions: the ramp-up
#: (empty pipeline, the first batches small) and the tail (the last batches small again).
_STEADY_FROM, _STEADY_TO = 0.10, 0.90


def throughput_result(
    sent: Sequence[Sent], seen: dict[str, tuple[float, str]], *, concurrency: int
) -> ThroughputResult:
    """Figures of a closed-loop run.

    The headline rate is measured on completions alone: the time between the
    completion at the 10th and at the 90th percentile of all completions, divided into
    the completions between them. Intake keeps offering more than the pipeline takes for
    most of that window, so it is the rate the pipeline sustains under full load, with
    the load generator competing for the same CPU as in any single-machine run.
    """
    accepted = [s for s in sent if s.ticket_id is not None]
    done = sorted(seen[s.ticket_id][0] for s in accepted if s.ticket_id in seen)
    latencies, missing = _latencies_ms(sent, seen)
    first = min((s.started for s in sent), default=math.nan)
    last_answer = max((s.answered for s in accepted), default=math.nan)
    steady = math.nan
    if len(done) >= 20:
        lo, hi = int(len(done) * _STEADY_FROM), int(len(done) * _STEADY_TO) - 1
        if done[hi] > done[lo]:
            steady = (hi - lo) / (done[hi] - done[lo])
    return ThroughputResult(
        offered=len(sent),
        accepted=len(accepted),
        failed=len(sent) - len(accepted),
        completed=len(done),
        missing=missing,
        concurrency=concurrency,
        intake_msgs_per_s=len(accepted) / (last_answer - first) if accepted else math.nan,
        e2e_msgs_per_s=steady,
        e2e_overall_msgs_per_s=len(done) / (done[-1] - first) if done else math.nan,
        backlog_at_intake_end=sum(
            1 for s in accepted if s.ticket_id not in seen or seen[s.ticket_id][0] > last_answer
        ),
        intake_s=last_answer - first,
        drain_s=(done[-1] - last_answer) if done else math.nan,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        routed=_routed(sent, seen),
        errors=_errors(sent),
    )
