"""The configuration's model: the sections with their own validators, and the whole file.

Every section is frozen data validated by pydantic. The rules over that data (which Slack
channel a level pages, which SLA target applies, who is next on the ladder, which saved
reply fits) belong to the service that applies them, in its ``domain``. What stays here
is configuration access: :meth:`SocialdeskConfig.brand`, ``agent``, ``secret``,
``intake_api_keys``, ``secret_refs`` and ``missing_secrets``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from socialdesk_runtime.config.crisis import CrisisSettings
from socialdesk_runtime.config.desk import DeskSettings
from socialdesk_runtime.config.freshdesk import FreshdeskSettings
from socialdesk_runtime.config.platforms import PlatformsSettings
from socialdesk_runtime.config.rules import CROSS_FIELD, Location, cross_field_problems, render_loc
from socialdesk_runtime.config.sections import (
    Agent,
    Intake,
    KeywordRule,
    PlatformAccounts,
    SlackSettings,
)
from socialdesk_runtime.config.sla import BusinessCalendar, SlaPolicy
from socialdesk_runtime.config.types import (
    LEVELS,
    TWENTY_FOUR_SEVEN,
    ConfigModel,
    Cue,
    LanguageCode,
    Level,
    SlackChannelId,
    SlackPurpose,
    Slug,
    Text,
)
from socialdesk_schemas import Platform, Priority

__all__ = ["Brand", "BusinessCalendar", "RoutingRules", "SavedReply", "SlaPolicy", "SocialdeskConfig"]


class Brand(ConfigModel):
    """A business served by the desk (OurBus, Rally): its accounts, Slack channels, ladder."""

    id: Slug
    name: Text
    accounts: PlatformAccounts = PlatformAccounts()
    slack_channels: dict[SlackPurpose, SlackChannelId]
    escalation_ladder: list[Level] = Field(default_factory=lambda: list(LEVELS))
    #: ``"24/7"`` or the name of a calendar under ``sla.calendars``.
    business_hours: str = TWENTY_FOUR_SEVEN
    default_language: LanguageCode = "en"

    @field_validator("slack_channels")
    @classmethod
    def _lead_channel_required(cls, value: dict[SlackPurpose, str]) -> dict[SlackPurpose, str]:
        # L3 is where every SLA breach lands (seed 000: the Brand Lead owns timeliness) and
        # is the notifier's fallback channel, so a brand without it could lose an escalation.
        if "L3" not in value:
            raise ValueError("an 'L3' channel is required: SLA breaches and every fallback post there")
        return value

    @field_validator("escalation_ladder")
    @classmethod
    def _ladder_ascends(cls, value: list[Level]) -> list[Level]:
        ranks = [LEVELS.index(level) for level in value]
        if ranks != sorted(set(ranks)):
            raise ValueError(f"must go upward without repeats, in the order {', '.join(LEVELS)}")
        if "L3" not in value:
            raise ValueError("must include L3: the brand lead answers for the SLA")
        return value


class RoutingRules(ConfigModel):
    """The first, rule-based classification pass; cues are matched case-insensitively.

    Seed 000: marketing queries (collaborations, influencer offers, campaigns) are not the
    CX team's to answer, so they are routed to marketing before any agent sees them.
    """

    marketing_cues: dict[LanguageCode, list[Cue]] = Field(default_factory=dict)
    ignore_cues: dict[LanguageCode, list[Cue]] = Field(default_factory=dict)
    default_priority: Priority = "medium"
    keyword_rules: list[KeywordRule] = Field(default_factory=list)


class SavedReply(ConfigModel):
    """A canned response (seed 000's Freshdesk canned responses), one text per language."""

    title: str | None = None
    #: Brands that may use it; ``None`` means every brand.
    brands: list[Slug] | None = None
    text: dict[LanguageCode, Text] = Field(min_length=1)
    #: Platforms it is for (e.g. a public-comment wording); ``None`` means every platform.
    platforms: list[Platform] | None = None
    #: A platform's own wording, per language (shorter on X, warmer in a DM); ``text`` elsewhere.
    tone: dict[Platform, dict[LanguageCode, Text]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _tone_where_used(self) -> Self:
        unused = sorted(set(self.tone) - set(self.platforms or self.tone))
        if unused:
            raise ValueError(f"tone for {', '.join(unused)}, which platforms leaves out")
        return self


# --- the whole file ---------------------------------------------------------------------


class SocialdeskConfig(ConfigModel):
    """The validated deployment. Build it with :func:`load_config`; it never changes after."""

    #: Format version of this file, so a future incompatible layout can be detected.
    version: Literal[1] = 1
    brands: list[Brand] = Field(min_length=1)
    agents: list[Agent] = Field(min_length=1)
    sla: SlaPolicy = SlaPolicy()
    intake: Intake
    slack: SlackSettings = SlackSettings()
    platforms: PlatformsSettings = PlatformsSettings()
    routing: RoutingRules = RoutingRules()
    #: The agents' desk: root causes, approvals, shifts, presence, specialists (issue 9).
    desk: DeskSettings = DeskSettings()
    #: The Freshdesk connector per brand (issue 13); off unless a brand is enabled.
    freshdesk: FreshdeskSettings = FreshdeskSettings()
    #: Who is paged in each brand's crisis channel, per severity (issue 11).
    crisis: CrisisSettings = CrisisSettings()
    saved_replies: dict[Slug, SavedReply] = Field(default_factory=dict)
    #: Classifier thresholds (auto-reply confidence per brand, grouping, trend and spike
    #: windows). Validated by the classifier service against its own model at start: the
    #: runtime does not know the classifier's settings (services depend on the runtime,
    #: never the reverse).
    classifier: dict[str, Any] = Field(default_factory=dict)

    _env: Mapping[str, str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        # Problems between sections are collected and raised together, each with its own
        # location, so load_config can still point at the right line for every one.
        problems = list(cross_field_problems(self))
        if problems:
            raise PydanticCustomError(
                CROSS_FIELD,
                "{summary}",
                {
                    "summary": "; ".join(f"{render_loc(loc)}: {msg}" for loc, msg in problems),
                    "problems": problems,
                },
            )
        return self

    # -- configuration access --

    def brand(self, brand_id: str) -> Brand:
        """The brand with this id; ``KeyError`` names the known ones."""
        for brand in self.brands:
            if brand.id == brand_id:
                return brand
        raise KeyError(
            f"unknown brand {brand_id!r}; configured brands: {', '.join(b.id for b in self.brands)}"
        )

    def agent(self, agent_id: str) -> Agent:
        """The agent with this id; ``KeyError`` if none."""
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        raise KeyError(f"unknown agent {agent_id!r}")

    # -- secrets --

    def secret(self, env_name: str) -> str | None:
        """The value of environment variable ``env_name``, read now; ``None`` if unset or empty.

        Reads the mapping given to :func:`load_config` when there was one (tests), else
        ``os.environ`` at call time, so rotating a secret needs no reload of the file.
        """
        source = os.environ if self._env is None else self._env
        value = source.get(env_name)
        return value if value else None

    def intake_api_keys(self) -> frozenset[str]:
        """The accepted intake API keys (comma-separated in ``intake.api_keys_env``)."""
        raw = self.secret(self.intake.api_keys_env) or ""
        return frozenset(key.strip() for key in raw.split(",") if key.strip())

    def secret_refs(self) -> dict[str, str]:
        """Every ``*_env`` reference in the file: dotted field path → variable name."""
        return dict(_walk_env_refs(self, ()))

    def missing_secrets(self) -> list[str]:
        """``path: NAME`` for each referenced variable that is unset, for a start-up warning."""
        return [f"{path}: {name}" for path, name in self.secret_refs().items() if self.secret(name) is None]


def _walk_env_refs(node: BaseModel, path: Location) -> Iterator[tuple[str, str]]:
    for name in type(node).model_fields:
        value = getattr(node, name)
        here = (*path, name)
        if name.endswith("_env") and isinstance(value, str):
            yield render_loc(here), value
        elif isinstance(value, BaseModel):
            yield from _walk_env_refs(value, here)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _walk_env_refs(item, (*here, i))
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    yield from _walk_env_refs(item, (*here, str(key)))
