"""assigner's own metrics (the consumer, outbox and HTTP ones come from the runtime)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

__all__ = ["AssignerMetrics"]


@dataclass(frozen=True)
class AssignerMetrics:
    messages_routed: Counter
    desk_actions: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> AssignerMetrics:
        return cls(
            messages_routed=Counter(
                "assigner_messages_routed_total",
                "Classified messages by what they did to their ticket (assign, queue, route_to_marketing, "
                "dismiss, auto_answer, follow_up); a batch retried after an error counts again",
                ["transition"],
                registry=registry,
            ),
            desk_actions=Counter(
                "assigner_desk_actions_total",
                "Desk API actions by outcome (done, duplicate, unchanged, forbidden, conflict, not_found)",
                ["action", "outcome"],
                registry=registry,
            ),
        )
