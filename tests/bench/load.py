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

The figures of a run (percentiles, rates) are computed in :mod:`tests.bench.results`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer

from socialdesk_schemas import TOPICS, UnknownEventType, decode_event
from tests.bench.http import HttpError, IntakeClient

__all__ = [
    "AssignmentWatcher",
    "MessageFactory",
    "Sent",
    "closed_loop",
    "intake_client",
    "open_loop",
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
