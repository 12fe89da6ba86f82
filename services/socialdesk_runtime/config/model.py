"""The configuration's model: the sections that still carry behaviour, and the whole file.

Every section is frozen data validated by pydantic. A few methods here are service rules
rather than configuration access (which Slack channel for a level, which SLA target,
who is next on the ladder, ...); each is marked "moving to the owning service's domain
(issue 6)" and is deleted once its service's ``domain`` has taken it over. The look-ups
that are configuration access stay: :meth:`SocialdeskConfig.brand`, ``agent``, ``secret``,
``intake_api_keys``, ``secret_refs`` and ``missing_secrets``.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from socialdesk_runtime.config.rules import CROSS_FIELD, Location, cross_field_problems, render_loc
from socialdesk_runtime.config.sections import (
    Agent,
    Intake,
    KeywordRule,
    PlatformAccounts,
    SlackSettings,
    SlaTargets,
    TimeWindow,
)
from socialdesk_runtime.config.types import (
    LEVELS,
    TWENTY_FOUR_SEVEN,
    WEEKDAYS,
    ConfigModel,
    Cue,
    LanguageCode,
    Level,
    Seconds,
    SlackChannelId,
    SlackPurpose,
    SlaMetric,
    Slug,
    Text,
    Weekday,
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
        # is the fallback of channel_for, so a brand without it could lose an escalation.
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

    # -- moving to the owning service's domain (issue 6) --

    def channel_for(self, level: SlackPurpose) -> str:
        """The Slack channel id for ``level`` (or a purpose such as ``"warnings"``).

        An unconfigured level falls back to the nearest configured level *above* it, so a
        message is seen by someone with at least the authority it was meant for; beyond
        the top, or for a purpose, it falls back to the always-present L3 channel.
        """
        if level in self.slack_channels:
            return self.slack_channels[level]
        if level in LEVELS:
            for higher in LEVELS[LEVELS.index(level) + 1 :]:
                if higher in self.slack_channels:
                    return self.slack_channels[higher]
        return self.slack_channels["L3"]


class BusinessCalendar(ConfigModel):
    """When a team is staffed: weekly hours in a timezone, minus holidays. Missing days are closed."""

    timezone: str
    hours: dict[Weekday, list[TimeWindow]]
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone such as 'America/New_York'") from None
        return value

    # -- moving to the owning service's domain (issue 6) --

    def is_open(self, at: datetime) -> bool:
        """Whether the calendar is open at the aware instant ``at`` (naive is refused: no guessing)."""
        if at.tzinfo is None:
            raise ValueError("is_open needs an aware datetime")
        local = at.astimezone(zoneinfo.ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        windows = self.hours.get(WEEKDAYS[local.weekday()], [])
        now = local.time().replace(tzinfo=None)
        return any(w.start <= now < w.end or (w.end == time.max and now >= w.start) for w in windows)


class SlaPolicy(ConfigModel):
    """Response targets. Defaults follow seed 000: first response within 2 hours.

    Overrides by priority and by platform are both promises, so when both apply the
    stricter (shorter) one wins. Hot topics (a spike of the same complaint) multiply the
    target by ``hot_topic_factor`` because one slow answer is then seen by many.
    """

    first_response_seconds: Seconds = 7200.0
    next_response_seconds: Seconds = 7200.0
    #: Seed 002: complex requests and complaints may take up to two days to resolve.
    resolution_seconds: Seconds = 172800.0
    #: A warning goes out when this fraction of the target has elapsed.
    warn_at_fraction: float = Field(default=0.75, gt=0, lt=1, allow_inf_nan=False)
    hot_topic_factor: float = Field(default=0.5, gt=0, le=1, allow_inf_nan=False)
    by_priority: dict[Priority, SlaTargets] = Field(default_factory=dict)
    by_platform: dict[Platform, SlaTargets] = Field(default_factory=dict)
    calendars: dict[Slug, BusinessCalendar] = Field(default_factory=dict)

    # -- moving to the owning service's domain (issue 6) --

    def target_for(
        self, metric: SlaMetric, priority: Priority, platform: Platform, *, hot_topic: bool = False
    ) -> float:
        """Seconds allowed for ``metric`` on a ticket of this priority and platform."""
        field = f"{metric}_seconds"
        overrides = [
            value
            for targets in (self.by_priority.get(priority), self.by_platform.get(platform))
            if targets is not None and (value := getattr(targets, field)) is not None
        ]
        seconds = float(min(overrides)) if overrides else float(getattr(self, field))
        return seconds * self.hot_topic_factor if hot_topic else seconds

    def first_response_for(self, priority: Priority, platform: Platform, *, hot_topic: bool = False) -> float:
        """Seconds allowed before the first reply (the timer the sla-monitor arms)."""
        return self.target_for("first_response", priority, platform, hot_topic=hot_topic)


class RoutingRules(ConfigModel):
    """The first, rule-based classification pass; cues are matched case-insensitively.

    Seed 000: marketing queries (collaborations, influencer offers, campaigns) are not the
    CX team's to answer, so they are routed to marketing before any agent sees them.
    """

    marketing_cues: dict[LanguageCode, list[Cue]] = Field(default_factory=dict)
    ignore_cues: dict[LanguageCode, list[Cue]] = Field(default_factory=dict)
    default_priority: Priority = "medium"
    keyword_rules: list[KeywordRule] = Field(default_factory=list)

    # -- moving to the owning service's domain (issue 6) --

    def all_marketing_cues(self) -> frozenset[str]:
        """Every marketing cue, all languages together (a post may mix languages)."""
        return frozenset(cue for cues in self.marketing_cues.values() for cue in cues)

    def all_ignore_cues(self) -> frozenset[str]:
        """Every ignore cue, all languages together."""
        return frozenset(cue for cues in self.ignore_cues.values() for cue in cues)


class SavedReply(ConfigModel):
    """A canned response (seed 000's Freshdesk canned responses), one text per language."""

    title: str | None = None
    #: Brands that may use it; ``None`` means every brand.
    brands: list[Slug] | None = None
    text: dict[LanguageCode, Text] = Field(min_length=1)

    # -- moving to the owning service's domain (issue 6) --

    def text_for(self, language: str, *, fallback: str = "en") -> str:
        """The text in ``language``, else its base language ("es-MX" → "es"), else ``fallback``."""
        for candidate in (language, language.split("-", 1)[0], fallback):
            if candidate in self.text:
                return self.text[candidate]
        return next(iter(self.text.values()))


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
    routing: RoutingRules = RoutingRules()
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

    # -- moving to the owning service's domain (issue 6) --

    def agents_for(
        self, brand_id: str, *, levels: Sequence[Level] | None = None, online_only: bool = True
    ) -> list[Agent]:
        """The brand's agents in file order (the order round-robin follows), optionally by level."""
        self.brand(brand_id)  # an unknown brand is a bug upstream, not an empty team
        return [
            agent
            for agent in self.agents
            if brand_id in agent.brands
            and (levels is None or agent.level in levels)
            and (agent.online or not online_only)
        ]

    def escalation_target(self, brand_id: str, from_level: Level | None) -> tuple[Level, Agent | None]:
        """The next rung above ``from_level`` on the brand's ladder, and who stands on it.

        ``None`` means the ticket had no level yet: it goes to the first rung. At the top
        the ladder has nowhere further to go, so the top rung is returned again. The agent
        is the first *online* one at that level in file order, else the first listed (the
        L3 brand lead still owns a breach when away), else ``None`` if the level is unstaffed.
        """
        ladder = self.brand(brand_id).escalation_ladder
        rank = -1 if from_level is None else LEVELS.index(from_level)
        level = next((step for step in ladder if LEVELS.index(step) > rank), ladder[-1])
        staff = self.agents_for(brand_id, levels=[level], online_only=False)
        agent = next((a for a in staff if a.online), staff[0] if staff else None)
        return level, agent

    def saved_reply(self, key: str, *, brand_id: str | None = None) -> SavedReply:
        """A saved reply by key, refusing one that is not meant for ``brand_id``."""
        try:
            reply = self.saved_replies[key]
        except KeyError:
            raise KeyError(f"unknown saved reply {key!r}") from None
        if brand_id is not None and reply.brands is not None and brand_id not in reply.brands:
            raise KeyError(f"saved reply {key!r} is not for brand {brand_id!r}")
        return reply


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
