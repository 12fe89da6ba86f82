"""The ``desk`` section: how the agents' desk works (issue 9).

Root-cause categories an agent closes a ticket with (seed 000's RCA), which replies need a
second pair of eyes (seed 003), shifts and presence, specialists for safety, legal and
influencer posts (seed 002), the Messenger live-chat pool (seed 000), idle reassignment,
whether an escalation hands the ticket up the ladder or adds the lead as a watcher, and how
long a sign-in to the desk's pages lasts.

Every field has a default, so a deployment without a ``desk`` section gets a working desk.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from socialdesk_runtime.config.sections import TimeWindow
from socialdesk_runtime.config.types import AgentId, ConfigModel, Level, Seconds, Slug, Text, Weekday

if TYPE_CHECKING:
    from socialdesk_runtime.config.model import SocialdeskConfig

__all__ = [
    "DEFAULT_ROOT_CAUSES",
    "Approvals",
    "DeskSessions",
    "DeskSettings",
    "Shift",
    "Specialists",
    "desk_problems",
]

DEFAULT_ROOT_CAUSES: dict[str, str] = {
    "delay": "Bus delayed or late departure",
    "cancellation": "Trip cancelled",
    "booking": "Booking, ticket or payment problem",
    "refund": "Refund request or refund delay",
    "driver": "Driver or staff behaviour",
    "vehicle": "Vehicle condition (AC, wifi, cleanliness)",
    "luggage": "Luggage lost, damaged or policy",
    "information": "Question answered (schedules, policies)",
    "safety": "Safety incident",
    "other": "Other",
}


class Approvals(ConfigModel):
    """Replies held as ``pending_approval`` until a peer or a supervisor approves (seed 003)."""

    #: Ticket categories whose replies always need approval (for example legal, safety).
    categories: list[Slug] = Field(default_factory=list)
    #: Agents still learning: every reply they write needs approval.
    new_agents: list[AgentId] = Field(default_factory=list)
    #: The lowest level that may approve someone else's reply (the author never may).
    min_approver_level: Level = "L2"


class Shift(ConfigModel):
    """When an agent works, in their timezone: outside it they count as offline."""

    timezone: str = "UTC"
    hours: dict[Weekday, list[TimeWindow]]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone such as 'Asia/Jakarta'") from None
        return value


class Specialists(ConfigModel):
    """Who gets posts that need a specialist first (seed 002), by agent id."""

    safety: list[AgentId] = Field(default_factory=list)
    legal: list[AgentId] = Field(default_factory=list)
    influencer: list[AgentId] = Field(default_factory=list)
    #: An author with at least this many followers is an influencer.
    influencer_followers: int = Field(default=10000, ge=1)


class DeskSessions(ConfigModel):
    """How long a sign-in to the desk's pages lasts (decision 0304): it ends after
    ``idle_seconds`` in which the agent opened no desk page and did nothing (the pages' own
    refreshes in the background do not count), and ``lifetime_seconds`` after signing in
    whatever happens; signing out ends it at once."""

    idle_seconds: Seconds = 12 * 3600.0
    lifetime_seconds: Seconds = 7 * 24 * 3600.0

    @model_validator(mode="after")
    def _idle_within_lifetime(self) -> Self:
        if self.idle_seconds > self.lifetime_seconds:
            raise ValueError(
                f"idle_seconds ({self.idle_seconds:g}) is longer than lifetime_seconds "
                f"({self.lifetime_seconds:g}): a session never lasts longer than its lifetime"
            )
        return self


class DeskSettings(ConfigModel):
    """The desk's rules for a support lead to tune."""

    #: Root-cause categories (id → label) an agent picks when resolving (seed 000's RCA).
    root_causes: dict[Slug, Text] = Field(default_factory=lambda: dict(DEFAULT_ROOT_CAUSES))
    approvals: Approvals = Approvals()
    #: Agent id → working hours; an agent without a shift is on whenever online.
    shifts: dict[AgentId, Shift] = Field(default_factory=dict)
    #: What going offline does to an agent's open tickets: hand them on (to colleagues or
    #: back to the queue, with a hand-off note) or keep them.
    offline_policy: Literal["hand_on", "keep"] = "hand_on"
    #: A ticket untouched this long in someone's hands goes back to routing (unset: never).
    idle_reassign_seconds: Seconds | None = None
    #: On escalation: hand the ticket to the next rung, or keep the owner and add the lead
    #: as a watcher.
    escalation: Literal["reassign", "watch"] = "reassign"
    specialists: Specialists = Specialists()
    #: Messenger DMs go first to online agents with this skill (seed 000's live-chat pool).
    live_chat_skill: Slug = "live-chat"
    #: The longest note or reply text, in characters (longer: 413).
    max_text_chars: int = Field(default=4000, ge=1, le=100000)
    sessions: DeskSessions = DeskSessions()
    #: Where agents open the desk, as their browser shows it (``https://desk.example.com``),
    #: when that is not what the assigner sees: behind a proxy that ends TLS, a request
    #: says http (uvicorn believes ``X-Forwarded-Proto`` only from ``FORWARDED_ALLOW_IPS``).
    #: Set, it decides that the session cookie is ``Secure`` (https) and is the only origin
    #: a change made with the cookie may come from (decision 0304); unset, the request's own.
    public_url: str | None = None

    @field_validator("public_url")
    @classmethod
    def _an_origin(cls, value: str | None) -> str | None:
        """The origin as a browser sends it in ``Origin``: lowercase, no default port, no path."""
        if value is None:
            return None
        wrong = f"{value!r} is not an origin such as 'https://desk.example.com' (scheme, host, port)"
        try:
            url = urlsplit(value)
            port = url.port
        except ValueError:
            raise ValueError(wrong) from None
        extra = url.path not in ("", "/") or url.query or url.fragment or url.username is not None
        if url.scheme.lower() not in ("http", "https") or not url.hostname or extra:
            raise ValueError(wrong)
        scheme = url.scheme.lower()
        host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
        shown = "" if port is None or port == {"http": 80, "https": 443}[scheme] else f":{port}"
        return f"{scheme}://{host}{shown}"


def desk_problems(cfg: SocialdeskConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Agent ids the desk section names must be agents of the file."""
    known = {a.id for a in cfg.agents}
    desk = cfg.desk
    for i, agent_id in enumerate(desk.approvals.new_agents):
        if agent_id not in known:
            yield ("desk", "approvals", "new_agents", i), f"unknown agent {agent_id!r}"
    for agent_id in desk.shifts:
        if agent_id not in known:
            yield ("desk", "shifts", agent_id), f"unknown agent {agent_id!r}"
    for kind in ("safety", "legal", "influencer"):
        for i, agent_id in enumerate(getattr(desk.specialists, kind)):
            if agent_id not in known:
                yield ("desk", "specialists", kind, i), f"unknown agent {agent_id!r}"
