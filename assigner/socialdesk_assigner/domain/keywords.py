"""Keyword rules (``routing.keyword_rules``): words in the customer's message that send the
ticket to a skill or a level and raise its priority.

The customer's words reach the assigner in ``MessageReceived`` (``ticket.messages``) and the
routing decision in ``MessageClassified`` (``ticket.classified``): two topics, so either
may come first. Routing reads the words when they came first (:func:`raised_priority` and
:func:`~socialdesk_assigner.domain.routing.preferred`); when they come after, the ticket
was routed without them, and :func:`~socialdesk_assigner.domain.rerouting.late_words` applies the rules then, as long as nobody
has worked the ticket yet (no reply, still the routing's pick or waiting in the queue).

Usage::

    priority = raised_priority(config, text, message.priority)
"""

from __future__ import annotations

from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_runtime.config.sections import KeywordRule
from socialdesk_schemas import Priority

__all__ = ["fits", "matching_rules", "raised_priority"]

_URGENCY: dict[Priority, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def matching_rules(config: SocialdeskConfig, text: str) -> list[KeywordRule]:
    """The keyword rules whose words appear in ``text`` (case-insensitive), in file order."""
    folded = text.casefold()
    if not folded:
        return []
    return [r for r in config.routing.keyword_rules if any(k.casefold() in folded for k in r.keywords)]


def raised_priority(config: SocialdeskConfig, text: str, priority: Priority) -> Priority:
    """``priority`` raised to the most urgent a matching rule sets (a rule never lowers it)."""
    for rule in matching_rules(config, text):
        if rule.priority is not None and _URGENCY[rule.priority] < _URGENCY[priority]:
            priority = rule.priority
    return priority


def fits(agent: Agent, rule: KeywordRule) -> bool:
    return (rule.skill is None or rule.skill in agent.skills) and (
        rule.level is None or agent.level == rule.level
    )
