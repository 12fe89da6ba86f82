"""Who may press which Slack button, and what a press does (issue 11 item 3). Pure rules.

Usage::

    outcome = judge_click(action="acknowledge", slack_user_id="U0...", ticket=view, config=config,
                          required_level="L3")
    if outcome.refusal: answer ephemerally, change nothing
    else: emit the event for outcome.agent_id
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from socialdesk_runtime.config import SocialdeskConfig

__all__ = ["ClickOutcome", "TicketView", "judge_click"]

LEVELS = ("L1", "L2", "L3", "L4", "TMT")
Action = Literal["acknowledge", "take_ownership", "claim"]


@dataclass(frozen=True, slots=True)
class TicketView:
    """What the notifier knows of the ticket a button was built for (None: never heard of it)."""

    brand: str
    resolved: bool
    acknowledged_by: str | None = None
    owner_agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClickOutcome:
    agent_id: str | None
    refusal: str | None  # the ephemeral answer when nothing changes


def _refuse(text: str, agent_id: str | None = None) -> ClickOutcome:
    return ClickOutcome(agent_id=agent_id, refusal=text)


def judge_click(
    *,
    action: Action,
    slack_user_id: str,
    ticket: TicketView | None,
    config: SocialdeskConfig,
    required_level: str = "L1",
) -> ClickOutcome:
    agent = next((a for a in config.agents if a.slack_user_id == slack_user_id), None)
    if agent is None:
        return _refuse("You are not on the desk's roster, so this button does nothing for you.")
    if ticket is None:
        return _refuse("This ticket is unknown to the desk; nothing was changed.", agent.id)
    if ticket.brand not in agent.brands:
        return _refuse(f"You do not work on {ticket.brand}; nothing was changed.", agent.id)
    needed = required_level if required_level in LEVELS else "L1"
    if LEVELS.index(agent.level) < LEVELS.index(needed):
        return _refuse(
            f"This needs level {needed} or above (you are {agent.level}); nothing was changed.", agent.id
        )
    if ticket.resolved:
        return _refuse("This ticket is already resolved; nothing was changed.", agent.id)
    if action == "acknowledge" and ticket.acknowledged_by is not None:
        who = "You" if ticket.acknowledged_by == agent.id else ticket.acknowledged_by
        return _refuse(f"{who} already acknowledged this ticket.", agent.id)
    if action in ("take_ownership", "claim") and ticket.owner_agent_id == agent.id:
        return _refuse("You already own this ticket.", agent.id)
    return ClickOutcome(agent_id=agent.id, refusal=None)
