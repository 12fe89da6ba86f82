"""Offering messages to intake and timing each one until its ``TicketAssigned`` is seen.

A message is *done* when the assigner's ``TicketAssigned`` for its ticket arrives on
``ticket.assignments``, read by :class:`AssignmentWatcher` (its own consumer, no group,
from the beginning), not when some service says so: that is what an agent's desk waits
for. Latency is from the start of the intake request to that arrival, both on this
process's ``perf_counter``. The watcher fetches with a 5 ms wait, so it adds at most a
few milliseconds to a latency.

Two ways of offering load, because they answer different questions:

- :func:`closed_loop` keeps ``concurrency`` requests in flight as fast as intake answers:
  the most the system sustains (throughput);
- :func:`open_loop` sends on a fixed schedule whatever the answers, like real traffic
  does, so slow answers cannot slow the offered rate and hide queueing (latency).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer

from socialdesk_schemas import TOPICS, UnknownEventType, decode_event
from tests.bench.http import HttpError, IntakeClient

__all__ = [
    "AssignmentWatcher",
    "LatencyResult",
    "MessageFactory",
    "Sent",
    "ThroughputResult",
    "closed_loop",
    "intake_client",
    "latency_result",
    "open_loop",
    "percentile",
    "throughput_result",
]

#: Texts a customer might send a bus company; none carries a marketing or ignore cue of
#: the configuration, so every message is a CX ticket that ends in ``TicketAssigned``.
_TEXTS = (
    "My bus from Madrid to Lisbon was three hours late and nobody told us anything at the "
    "station. I missed my connection and had to pay for a hotel. I want a refund please.",
    "Hi, I booked the 07:15 to Porto for two adults but the confirmation email only shows "
    "one passenger. Can you fix the booking before Friday? Reference is in my profile.",
    "The driver on line 42 refused to let me board with a folding bike even though your "
    "website says it is allowed. Really disappointed, this is the second time this month.",
    "Where is my refund? You cancelled my trip on the 3rd and promised the money within "
    "five working days. It has been two weeks and I keep getting the same automatic answer.",
    "Lost a black backpack on the night bus Barcelona to Valencia yesterday, seat 14. It "
    "has my laptop and medication inside. Who do I contact, is there a lost property desk?",
    "App keeps crashing when I try to add a second passenger at checkout, tried on two "
    "phones. I cannot buy tickets for my kids for the holidays, please help quickly.",
    "The air conditioning was broken on the whole trip from Seville, it was over 35 degrees "
    "inside and there was no water. Elderly passengers were feeling sick. Unacceptable.",
    "Can I change my ticket to a later departure on the same day without paying the full "
    "fare again? The website only offers me a cancellation with a fee.",
)

_PLATFORMS = ("x", "instagram", "facebook", "messenger", "whatsapp")
#: A request slower than this counts as failed (it would be far off every figure anyway).
_REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class MessageFactory:
    """Intake bodies: a distinct author (so a new ticket) and message id for every index.

    Distinct authors mean distinct tickets, whose random ids spread the records over every
    partition of every topic, as real traffic does. One in five goes to the second brand.
    """

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def body(self, i: int) -> bytes:
        return orjson.dumps(
            {
                "brand": "rally" if i % 5 == 4 else "ourbus",
                "platform": _PLATFORMS[i % len(_PLATFORMS)],
                "kind": "dm" if i % 2 else "mention",
                "platform_message_id": f"bench-{self.tag}-{i}",
                "author": {
                    "platform_user_id": f"bench-{self.tag}-u{i}",
                    "handle": f"rider_{i}",
                    "display_name": f"Rider {i}",
                    "followers": 100 + i % 5000,
                },
                "text": _TEXTS[i % len(_TEXTS)],
            }
        )


@dataclass(slots=True)
class Sent:
    """One intake request: when it started and ended, and the ticket intake opened."""

    started: float
    answered: float = math.nan
    status: int = 0
    ticket_id: str | None = None
    error: str | None = None


async def _post(client: IntakeClient, body: bytes) -> Sent:
    sent = Sent(started=time.perf_counter())
    try:
        status, payload = await asyncio.wait_for(
            client.post("/v1/messages", body), timeout=_REQUEST_TIMEOUT_S
        )
    except (HttpError, TimeoutError) as exc:
        sent.error = f"{type(exc).__name__}: {exc}"
    else:
        sent.status = status
        if status == 202:
            sent.ticket_id = orjson.loads(payload)["ticket_id"]
        else:
            sent.error = f"HTTP {status}: {payload[:200]!r}"
    sent.answered = time.perf_counter()
    return sent


def intake_client(port: int, *, api_key: str, connections: int) -> IntakeClient:
    """Keep-alive connections to intake on 127.0.0.1, so the figures hold no handshakes."""
    return IntakeClient("127.0.0.1", port, api_key=api_key, connections=connections)


async def closed_loop(
    client: IntakeClient,
    factory: MessageFactory,
    indices: Iterable[int],
    *,
    concurrency: int,
    max_seconds: float = math.inf,
) -> list[Sent]:
    """Send every index's message, ``concurrency`` requests in flight at all times.

    Stops offering after ``max_seconds`` so that a slow system still ends the run in time.
    """
    queue = iter(indices)
    results: list[Sent] = []
    deadline = time.perf_counter() + max_seconds

    async def worker() -> None:
        for i in queue:  # one shared iterator: each index is taken by exactly one worker
            if time.perf_counter() > deadline:
                return
            results.append(await _post(client, factory.body(i)))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def open_loop(
    client: IntakeClient, factory: MessageFactory, *, first: int, rate: float, duration_s: float
) -> tuple[list[Sent], float]:
    """Send ``rate`` messages per second for ``duration_s`` on schedule; return them and
    the worst lag (seconds) of a send behind its scheduled time.

    Each request is its own task: a slow answer never delays the next send.
    """
    count = round(rate * duration_s)
    tasks: list[asyncio.Task[Sent]] = []
    worst_lag = 0.0
    start = time.perf_counter()
    for n in range(count):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        worst_lag = max(worst_lag, time.perf_counter() - due)
        tasks.append(asyncio.create_task(_post(client, factory.body(first + n))))
    return list(await asyncio.gather(*tasks)), worst_lag


class AssignmentWatcher:
    """When each ticket's first routing event reached ``ticket.assignments``.

    No consumer group (it must not take partitions from anyone, nor commit) and from the
    earliest offset, so nothing published before it started is missed.
    """

    def __init__(self, bootstrap_servers: str) -> None:
        self._consumer = AIOKafkaConsumer(
            TOPICS.assignments.name,
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=5,
            max_poll_records=1000,
        )
        self.seen: dict[str, tuple[float, str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> None:
        await self._consumer.start()
        deadline = time.monotonic() + 30
        while not self._consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError("the assignment watcher got no partition in 30 s")
            await asyncio.sleep(0.05)
        self._task = asyncio.create_task(self._run(), name="assignment-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _run(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    try:
                        event = decode_event(record.value or b"")
                    except (UnknownEventType, ValueError):
                        continue
                    self.seen.setdefault(str(event.ticket_id), (now, event.event_type))
            if batch:
                self._changed.set()

    async def wait_for(self, ticket_ids: Iterable[str], *, timeout_s: float) -> int:
        """Wait until every ticket was seen or the time is up; return how many are missing."""
        wanted = set(ticket_ids)
        deadline = time.monotonic() + timeout_s
        while True:
            missing = sum(1 for t in wanted if t not in self.seen)
            left = deadline - time.monotonic()
            if missing == 0 or left <= 0:
                return missing
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 1.0))


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
