"""assigner's own metrics (the consumer, outbox and HTTP ones come from the runtime)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

__all__ = ["AssignerMetrics"]


@dataclass(frozen=True)
class AssignerMetrics:
    messages_routed: Counter
    desk_actions: Counter
    desk_sessions: Counter
    desk_session_refusals: Counter

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
            desk_sessions=Counter(
                "assigner_desk_sessions_total",
                "Sign-ins to the desk's pages and their ends (signed_in, sign_in_refused: a wrong token, "
                "signed_out, signed_out_everywhere: sessions ended by it, replaced: by a sign-in in the same browser)",
                ["event"],
                registry=registry,
            ),
            desk_session_refusals=Counter(
                "assigner_desk_session_refusals_total",
                "Uses of a desk session cookie refused, by reason (unknown, revoked, expired, "
                "token_changed, agent_unknown, not_from_the_desk, no_agent_header, other_agent)",
                ["reason"],
                registry=registry,
            ),
        )
