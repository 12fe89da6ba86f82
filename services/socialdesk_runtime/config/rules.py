"""Rules that span sections of the configuration (ids that must match, a lead per brand).

They run inside :class:`SocialdeskConfig`'s validation and yield *every* problem with its
own location, so :func:`~socialdesk_runtime.config.load_config` can point each at a line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from socialdesk_runtime.config.desk import desk_problems
from socialdesk_runtime.config.freshdesk import freshdesk_problems
from socialdesk_runtime.config.sla import sla_problems
from socialdesk_runtime.config.types import TWENTY_FOUR_SEVEN

if TYPE_CHECKING:
    from socialdesk_runtime.config.model import SocialdeskConfig

__all__ = ["CROSS_FIELD", "Location", "cross_field_problems", "render_loc"]

#: The pydantic error type under which the cross-field problems travel to the loader.
CROSS_FIELD = "config_cross_field"

Location = tuple[str | int, ...]


def cross_field_problems(cfg: SocialdeskConfig) -> Iterator[tuple[Location, str]]:
    """Rules that span sections; each yields the location to blame and why it matters."""
    brand_ids = [b.id for b in cfg.brands]
    known_brands = set(brand_ids)
    seen: set[str] = set()
    for i, brand_id in enumerate(brand_ids):
        if brand_id in seen:
            yield ("brands", i, "id"), f"duplicate brand id {brand_id!r}"
        seen.add(brand_id)

    seen_agents: dict[str, int] = {}
    seen_tokens: dict[str, int] = {}
    for i, agent in enumerate(cfg.agents):
        if agent.id in seen_agents:
            yield (
                ("agents", i, "id"),
                f"duplicate agent id {agent.id!r} (first at agents[{seen_agents[agent.id]}])",
            )
        seen_agents.setdefault(agent.id, i)
        for j, brand_id in enumerate(agent.brands):
            if brand_id not in known_brands:
                yield (
                    ("agents", i, "brands", j),
                    f"unknown brand {brand_id!r}; brands are {', '.join(brand_ids)}",
                )
        if agent.token_env is not None:
            # A shared token would make replies impossible to attribute to one person.
            if agent.token_env in seen_tokens:
                yield (
                    ("agents", i, "token_env"),
                    f"{agent.token_env} is already the token of agents[{seen_tokens[agent.token_env]}]; "
                    "each agent needs their own",
                )
            seen_tokens.setdefault(agent.token_env, i)

    for i, brand in enumerate(cfg.brands):
        if not any(a.level == "L3" and brand.id in a.brands for a in cfg.agents):
            yield (
                ("brands", i),
                f"brand {brand.id!r} has no L3 agent (brand lead): SLA breaches escalate to the L3, "
                "so at least one agent with level L3 must list this brand",
            )
        if brand.business_hours != TWENTY_FOUR_SEVEN and brand.business_hours not in cfg.sla.calendars:
            known = ", ".join([TWENTY_FOUR_SEVEN, *cfg.sla.calendars])
            yield (
                ("brands", i, "business_hours"),
                f"unknown calendar {brand.business_hours!r}; use one of {known}",
            )

    skills = {skill for agent in cfg.agents for skill in agent.skills}
    for i, rule in enumerate(cfg.routing.keyword_rules):
        if rule.skill is not None and rule.skill not in skills:
            yield (
                ("routing", "keyword_rules", i, "skill"),
                f"no agent has skill {rule.skill!r}, so tickets routed by this rule would wait forever",
            )

    for key, reply in cfg.saved_replies.items():
        for j, brand_id in enumerate(reply.brands or []):
            if brand_id not in known_brands:
                yield ("saved_replies", key, "brands", j), f"unknown brand {brand_id!r}"

    yield from desk_problems(cfg)
    yield from sla_problems(cfg)
    yield from freshdesk_problems(cfg)


def render_loc(loc: Sequence[str | int]) -> str:
    """``("agents", 3, "level")`` → ``agents[3].level``; a bad dict key is marked ``(key)``."""
    out = ""
    for item in loc:
        if item == "[key]":
            out += " (key)"
        elif isinstance(item, int):
            out += f"[{item}]"
        else:
            out += f".{item}" if out else str(item)
    return out
