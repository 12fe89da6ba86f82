"""What the stack did, rebuilt from the topics: the model behind the live dashboard.

The dashboard reads the same events every service reads, with its own consumer group,
so it shows what really travelled through Kafka rather than asking each service (which
would need a query API per service, and would break "no service reads another's store").

:class:`StackView` is plain state with no IO (``apply(event)``); :func:`observe` is the
Kafka loop that feeds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from socialdesk_schemas import (
    TOPICS,
    AgentReplied,
    Event,
    MessageClassified,
    MessageReceived,
    NotificationDelivered,
    NotificationFailed,
    SlaBreached,
    SlaWarning,
    TicketAssigned,
    TicketDismissed,
    TicketEscalated,
    TicketQueued,
    TicketResolved,
    TicketRoutedToMarketing,
    UnknownEventType,
    decode_event,
)

__all__ = ["OBSERVED_TOPICS", "StackView", "TicketView", "observe"]

_log = logging.getLogger("socialdesk_runtime.stack.observer")

OBSERVED_TOPICS: tuple[str, ...] = (
    TOPICS.messages.name,
    TOPICS.classified.name,
    TOPICS.assignments.name,
    TOPICS.activity.name,
    TOPICS.sla.name,
    TOPICS.deliveries.name,
)


@dataclass(slots=True)
class TicketView:
    """One ticket as the dashboard knows it."""

    ticket_id: uuid.UUID
    brand: str = "?"
    platform: str = "?"
    queue: str | None = None  # None until classified
    priority: str | None = None
    owner: str | None = None
    owner_level: str | None = None
    timer_armed: bool = False
    replied: bool = False
    resolved: bool = False
    breached: bool = False
    escalated_to: str | None = None

    @property
    def short(self) -> str:
        return str(self.ticket_id)[:8]


@dataclass(slots=True)
class StackView:
    """Counts and ownership rebuilt from events. Duplicates are harmless (at-least-once).

    Usage::

        view = StackView()
        view.apply(decode_event(record.value))
        view.queue_priority_counts()  # {("cx", "high"): 3, ...}
    """

    tickets: dict[uuid.UUID, TicketView] = field(default_factory=dict)
    messages_received: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)
    delivery_failures: int = 0
    undecodable: int = 0
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=12))
    recent_escalations: deque[str] = field(default_factory=lambda: deque(maxlen=6))
    _seen: set[uuid.UUID] = field(default_factory=set)

    def ticket(self, ticket_id: uuid.UUID) -> TicketView:
        view = self.tickets.get(ticket_id)
        if view is None:
            view = self.tickets[ticket_id] = TicketView(ticket_id)
        return view

    def apply(self, event: Event) -> None:
        """Fold one event into the view (an event seen twice counts once)."""
        if event.event_id in self._seen:
            return
        self._seen.add(event.event_id)
        t = self.ticket(event.ticket_id)
        line: str | None = None
        match event:
            case MessageReceived():
                self.messages_received += 1
                t.brand, t.platform = event.brand, event.platform
                who = event.author.handle or event.author.platform_user_id
                line = f"{event.platform}/{event.kind} from {who}"
            case MessageClassified():
                if event.opens_ticket or t.queue is None:
                    t.queue, t.priority = event.queue, event.priority
                t.brand, t.platform = event.brand, event.platform
                line = f"classified {event.queue}/{event.category}/{event.priority}"
            case TicketAssigned():
                t.owner, t.owner_level, t.priority = event.agent_id, event.agent_level, event.priority
                t.queue = t.queue or "cx"
                t.timer_armed = not (t.replied or t.resolved)
                line = f"assigned to {event.agent_id} ({event.agent_level}, {event.reason})"
            case TicketQueued():
                t.queue, t.priority = event.queue, event.priority
                line = f"queued in {event.queue}: {event.reason}"
            case TicketRoutedToMarketing():
                t.queue, t.priority = "marketing", event.priority
                line = "routed to marketing"
            case TicketDismissed():
                t.queue = "ignore"
                line = f"dismissed ({event.category})"
            case AgentReplied():
                t.replied, t.timer_armed = True, False
                line = f"{event.agent_id} replied"
            case TicketResolved():
                t.resolved, t.timer_armed, t.owner = True, False, None
                line = f"resolved by {event.agent_id}: {event.root_cause}"
            case SlaWarning():
                self.warnings += 1
                line = f"SLA warning ({event.metric}, {event.remaining_seconds:.0f}s left)"
            case SlaBreached():
                self.breaches += 1
                t.breached, t.timer_armed = True, False  # fired: now an escalation, not a timer
                line = f"SLA BREACHED ({event.metric}, owner {event.agent_id or 'none'})"
            case TicketEscalated():
                self.escalations += 1
                t.escalated_to = event.to_level
                to = event.to_agent_id or "nobody"
                line = f"escalated {event.from_level or '-'} -> {event.to_level} ({to})"
                self.recent_escalations.append(
                    f"{_clock(event.occurred_at)} {event.brand} {t.short} -> {event.to_level} "
                    f"{event.to_agent_id or ''}".rstrip()
                )
            case NotificationDelivered():
                self.deliveries[event.channel] += 1
                line = f"delivered {event.source_event_type} via {event.channel} to {event.destination}"
            case NotificationFailed():
                self.delivery_failures += 1
                line = f"delivery FAILED via {event.channel}: {event.error}"
            case _:
                pass
        if line is not None:
            self.recent.append(f"{_clock(event.occurred_at)} {t.short} {line}")

    # --- queries for the dashboard ----------------------------------------------------------

    def queue_priority_counts(self) -> Counter[tuple[str, str]]:
        return Counter(
            (t.queue or "unclassified", t.priority or "-")
            for t in self.tickets.values()
            if t.queue is not None
        )

    def owners(self) -> dict[str, list[TicketView]]:
        """Agent id -> open tickets they own."""
        owned: dict[str, list[TicketView]] = {}
        for t in self.tickets.values():
            if t.owner is not None and not t.resolved:
                owned.setdefault(t.owner, []).append(t)
        return dict(sorted(owned.items()))

    @property
    def timers_armed(self) -> int:
        return sum(t.timer_armed for t in self.tickets.values())

    @property
    def timers_stopped(self) -> int:
        return sum(t.replied or t.resolved for t in self.tickets.values())

    @property
    def ticket_count(self) -> int:
        return sum(t.queue is not None for t in self.tickets.values())


def _clock(at: datetime) -> str:
    return at.astimezone().strftime("%H:%M:%S")


async def observe(
    bootstrap_servers: str,
    view: StackView,
    *,
    from_beginning: bool,
    stop: asyncio.Event,
    on_event: Callable[[Event], None] | None = None,
) -> None:
    """Consume the observed topics into ``view`` until ``stop`` is set.

    A fresh consumer group per run: a group of a crashed earlier run would otherwise make
    the new member wait out its session timeout. ``from_beginning`` reads what the
    (fresh, embedded) topics already hold; on an external cluster we start at the end.
    """
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *OBSERVED_TOPICS,
        bootstrap_servers=bootstrap_servers,
        group_id=f"socialdesk-stack-observer-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=True,
        fetch_max_wait_ms=50,
        session_timeout_ms=6_000,  # the minimum real Kafka accepts; Tansu joins in half of it
        heartbeat_interval_ms=1_000,
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=1_000)
            for records in batches.values():
                for record in records:
                    try:
                        event = decode_event(record.value)
                    except UnknownEventType:
                        continue
                    except ValueError:
                        view.undecodable += 1
                        continue
                    view.apply(event)
                    if on_event is not None:
                        on_event(event)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
