"""The ``freshdesk`` section: the helpdesk connector, per brand (issue 13).

Seed 000: the team works tickets in Freshdesk (a Social Media group, canned responses, an
SLA from ticket creation). The notifier keeps one Freshdesk ticket per socialdesk ticket
of each brand configured here, and takes agents' replies and resolutions back through an
Automation-rule webhook. Off by default (``enabled: false``): ``make run`` needs nothing.

Usage (YAML)::

    freshdesk:
      brands:
        ourbus:
          enabled: true
          base_url: https://ourbus.freshdesk.com
          api_key_env: OURBUS_FRESHDESK_API_KEY
          webhook_secret_env: OURBUS_FRESHDESK_WEBHOOK_SECRET
          group_id: 43000123456
          agents: {ob-ana: 43000000001}

Rate limits are the account's, shared with every other integration: ``budget_share`` of
the per-minute budget (read from ``X-RateLimit-Total`` once known, ``requests_per_minute``
until then) and of the ticket-create cap is ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from socialdesk_runtime.config.types import AgentId, ConfigModel, Seconds, Slug
from socialdesk_schemas import Priority

if TYPE_CHECKING:
    from socialdesk_runtime.config.model import SocialdeskConfig
    from socialdesk_runtime.config.rules import Location

__all__ = ["DEFAULT_PRIORITIES", "FreshdeskBrand", "FreshdeskSettings", "freshdesk_problems"]

#: Freshdesk priorities: 1 Low, 2 Medium, 3 High, 4 Urgent.
DEFAULT_PRIORITIES: dict[Priority, int] = {"critical": 4, "high": 3, "medium": 2, "low": 1}


class FreshdeskBrand(ConfigModel):
    """One brand's Freshdesk account and how its tickets map onto it."""

    enabled: bool = False
    #: ``https://<domain>.freshdesk.com`` (or a compatible endpoint such as a test fake).
    base_url: str = Field(pattern=r"^https?://[^\s/]+(:\d+)?/?$")
    #: Environment variable holding the API key (HTTP Basic user name, password ``X``).
    api_key_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    #: Environment variable holding the shared secret the Automation rule sends in
    #: ``webhook_header``; a webhook without it is refused (401).
    webhook_secret_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    webhook_header: str = "X-Socialdesk-Secret"
    #: The Social Media group tickets go to.
    group_id: int = Field(gt=0)
    #: Our share of the account's limits (other integrations use the rest).
    budget_share: float = Field(default=0.5, gt=0, le=1)
    #: The account's per-minute budget until ``X-RateLimit-Total`` tells us (legacy plans
    #: 200 / 400 / 700).
    requests_per_minute: int = Field(default=200, ge=1)
    #: The account's ticket-create cap per minute (legacy plans 80 / 160 / 280).
    create_cap_per_minute: int = Field(default=80, ge=1)
    #: Length of the rate window (60 s at Freshdesk; shorter only against a test fake).
    rate_window_seconds: Seconds = 60.0
    #: After a wrong API key or a deleted group, try again this much later (not sooner).
    pause_seconds: Seconds = 300.0
    priorities: dict[Priority, int] = Field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    #: Tags added to every ticket of the brand (besides brand, platform, kind, category).
    tags: list[str] = Field(default_factory=list)
    #: Our agent id → Freshdesk agent id: the responder follows our owner, and a reply in
    #: Freshdesk is attributed to our agent.
    agents: dict[AgentId, int] = Field(default_factory=dict)
    #: Where a ticket links back to (``{ticket_id}`` filled in); none when unset.
    desk_ticket_url: str | None = None

    @field_validator("priorities")
    @classmethod
    def _priorities(cls, value: dict[Priority, int]) -> dict[Priority, int]:
        for ours, theirs in value.items():
            if theirs not in (1, 2, 3, 4):
                raise ValueError(f"{ours}: Freshdesk priorities are 1 Low, 2 Medium, 3 High, 4 Urgent")
        return {**DEFAULT_PRIORITIES, **value}

    @field_validator("agents")
    @classmethod
    def _one_to_one(cls, value: dict[str, int]) -> dict[str, int]:
        seen: dict[int, str] = {}
        for ours, theirs in value.items():
            if theirs in seen:
                raise ValueError(f"Freshdesk agent {theirs} is mapped to both {seen[theirs]} and {ours}")
            seen[theirs] = ours
        return value


class FreshdeskSettings(ConfigModel):
    """The connector per brand id; a brand not listed (or not enabled) is not synced."""

    brands: dict[Slug, FreshdeskBrand] = Field(default_factory=dict)

    def enabled(self, brand: str) -> FreshdeskBrand | None:
        account = self.brands.get(brand)
        return account if account is not None and account.enabled else None


def freshdesk_problems(cfg: SocialdeskConfig) -> Iterator[tuple[Location, str]]:
    """Brands and agents the section names must exist."""
    brand_ids = {b.id for b in cfg.brands}
    agent_ids = {a.id for a in cfg.agents}
    for brand_id, account in cfg.freshdesk.brands.items():
        if brand_id not in brand_ids:
            yield ("freshdesk", "brands", brand_id), f"unknown brand {brand_id!r}"
        for agent_id in account.agents:
            if agent_id not in agent_ids:
                yield ("freshdesk", "brands", brand_id, "agents", agent_id), f"unknown agent {agent_id!r}"
