"""The deployment's one configuration file: brands, agents, SLA, routing, Slack, saved replies.

A deployment is described by a single YAML file (``deploy/config/socialdesk.example.yaml``
is the annotated template). It is read once at start by :func:`load_config`, validated by
pydantic, and a bad file stops the process with *every* problem listed, each naming the
file line and the field, e.g.::

    socialdesk.yaml:42: agents[3].level: Input should be 'L1', 'L2', 'L3', 'L4' or 'TMT'

Why line numbers: the people who edit this file are support leads, not the developers who
wrote the models; "agents.3.level" alone sends them counting list items by hand.

Secrets never live in the file. Fields ending in ``_env`` hold the *name* of an environment
variable (``token_env: AGENT_ANA_TOKEN``); :meth:`SocialdeskConfig.secret` reads it when
called, so a rotated secret is picked up without re-reading the file and the file can be
committed and reviewed like code.

Usage::

    from socialdesk_runtime.config import load_config

    cfg = load_config(Path("deploy/config/socialdesk.example.yaml"))
    lead_level, lead = cfg.escalation_target("ourbus", "L2")  # ("L3", <Agent ourbus-farah>)
    channel = cfg.brand("ourbus").channel_for(lead_level)  # "C0OURBUSL3"
    seconds = cfg.sla.first_response_for("critical", "x")  # 900.0
    token = cfg.secret(cfg.slack.token_env)  # None when unset

Check a file by hand: ``python -m socialdesk_runtime.config path/to/socialdesk.yaml``.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import types
import typing
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from socialdesk_schemas import Platform, Priority

__all__ = [
    "LEVELS",
    "Agent",
    "Brand",
    "BusinessCalendar",
    "ConfigError",
    "FacebookAccount",
    "InstagramAccount",
    "Intake",
    "KeywordRule",
    "Level",
    "PlatformAccounts",
    "RoutingRules",
    "SavedReply",
    "SlaPolicy",
    "SlaTargets",
    "SlackPurpose",
    "SlackSettings",
    "SocialdeskConfig",
    "TimeWindow",
    "WhatsAppAccount",
    "XAccount",
    "load_config",
]

# The contract (socialdesk_schemas) defines the same Literal but does not export it; a
# test in tests/test_config.py fails if the two ever drift apart.
Level = Literal["L1", "L2", "L3", "L4", "TMT"]
#: The full ladder, lowest first (seed 000's RACI: Specialist, Strategist, Brand Lead,
#: Brand Manager, Top Management). Brand ladders are ordered sub-sequences of it.
LEVELS: tuple[Level, ...] = ("L1", "L2", "L3", "L4", "TMT")
#: A Slack channel is keyed by the level that watches it or by a purpose that has no level.
SlackPurpose = Literal["L1", "L2", "L3", "L4", "TMT", "warnings", "crisis", "marketing"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SlaMetric = Literal["first_response", "next_response", "resolution"]
_WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TWENTY_FOUR_SEVEN = "24/7"

# --- constrained scalars ----------------------------------------------------------------
# Each check raises a message written for the person editing the YAML, not for a developer.

_ENV_RE = re.compile(r"[A-Z_][A-Z0-9_]*")
_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_AGENT_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_CHANNEL_RE = re.compile(r"[CG][A-Z0-9]{2,}")
_SLACK_USER_RE = re.compile(r"[UW][A-Z0-9]{2,}")
_LANG_RE = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?")
_NUMERIC_RE = re.compile(r"[0-9]+")


def _env_name(value: str) -> str:
    # The value is deliberately not echoed: if someone pasted a secret here, the error
    # message (which lands in logs) must not repeat it.
    if not _ENV_RE.fullmatch(value):
        raise ValueError(
            "must be the NAME of an environment variable (capitals, digits, _; e.g. "
            "INGEST_API_KEYS), never the secret itself"
        )
    return value


def _slug(value: str) -> str:
    if not _SLUG_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid id: use lowercase letters, digits, '-' or '_'")
    return value


def _agent_id(value: str) -> str:
    if not _AGENT_ID_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid agent id: use lowercase letters, digits, '.', '-', '_'")
    return value


def _channel_id(value: str) -> str:
    if not _CHANNEL_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Slack channel id: use the id shown in the channel's details "
            "(C or G then capitals and digits, e.g. C0OURBUSL3), not its #name"
        )
    return value


def _slack_user_id(value: str) -> str:
    if not _SLACK_USER_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Slack user id (U or W then capitals and digits, e.g. U02ABCDEF)"
        )
    return value


def _language(value: str) -> str:
    if not _LANG_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a language code: use ISO 639 like 'en', 'es' or 'es-MX'")
    return value


def _numeric_id(value: Any) -> Any:
    # Platform ids are long digit strings; YAML reads them unquoted as ints, which is
    # harmless, so accept both rather than making every customer quote them.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _numeric_check(value: str) -> str:
    if not _NUMERIC_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a platform id: it should be digits only")
    return value


def _cue(value: str) -> str:
    cue = value.strip().casefold()
    if not cue:
        raise ValueError("a cue cannot be empty")
    return cue


EnvName = Annotated[str, AfterValidator(_env_name)]
Slug = Annotated[str, AfterValidator(_slug)]
AgentId = Annotated[str, AfterValidator(_agent_id)]
SlackChannelId = Annotated[str, AfterValidator(_channel_id)]
SlackUserId = Annotated[str, AfterValidator(_slack_user_id)]
LanguageCode = Annotated[str, AfterValidator(_language)]
NumericId = Annotated[str, BeforeValidator(_numeric_id), AfterValidator(_numeric_check)]
Cue = Annotated[str, AfterValidator(_cue)]
#: Durations are plain seconds so tests can use 2 s where production uses 2 h.
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    """Frozen and strict about keys: a typo such as ``levle:`` must fail, not be ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# --- brands -----------------------------------------------------------------------------


class FacebookAccount(_Model):
    """A Facebook Page (its Messenger inbox included)."""

    page_id: NumericId
    app_secret_env: EnvName | None = None
    page_token_env: EnvName | None = None


class InstagramAccount(_Model):
    """An Instagram professional account, reached through the Meta Graph API."""

    account_id: NumericId
    app_secret_env: EnvName | None = None
    access_token_env: EnvName | None = None


class WhatsAppAccount(_Model):
    """A WhatsApp Business number; the Cloud API addresses it by ``phone_number_id``."""

    phone_number_id: NumericId
    app_secret_env: EnvName | None = None
    access_token_env: EnvName | None = None


class XAccount(_Model):
    """An X (Twitter) account; the consumer secret signs webhook challenges."""

    user_id: NumericId
    consumer_secret_env: EnvName | None = None
    bearer_token_env: EnvName | None = None


class PlatformAccounts(_Model):
    """Where a brand lives on each platform. Every platform is optional."""

    facebook: FacebookAccount | None = None
    instagram: InstagramAccount | None = None
    whatsapp: WhatsAppAccount | None = None
    x: XAccount | None = None


class Brand(_Model):
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


# --- agents -----------------------------------------------------------------------------


class Agent(_Model):
    """A person on the desk. ``online`` is the presence at start; the assigner may update it."""

    id: AgentId
    name: Text
    brands: list[Slug] = Field(min_length=1)
    level: Level
    online: bool = True
    skills: list[Slug] = []
    languages: list[LanguageCode] = ["en"]
    max_open_tickets: int = Field(default=15, ge=1)
    #: Env var holding this agent's bearer token for the desk API (replies are attributed by it).
    token_env: EnvName | None = None
    slack_user_id: SlackUserId | None = None


# --- SLA --------------------------------------------------------------------------------


class SlaTargets(_Model):
    """Overrides for one priority or platform; unset metrics keep the policy default."""

    first_response_seconds: Seconds | None = None
    next_response_seconds: Seconds | None = None
    resolution_seconds: Seconds | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        values = (self.first_response_seconds, self.next_response_seconds, self.resolution_seconds)
        if all(value is None for value in values):
            raise ValueError("an override must set at least one *_seconds value")
        return self


class TimeWindow(_Model):
    """Opening hours within one day, written ``"08:00-20:00"`` (``24:00`` = end of day).

    One quoted string rather than ``start: 08:00`` because YAML 1.1 reads an unquoted
    ``08:00`` as the sexagesimal number 480.
    """

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
        if match is None:
            raise ValueError(f'{value!r} is not a time window: write it as "HH:MM-HH:MM"')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start = time(h1, m1)
            end = time.max if (h2, m2) == (24, 0) else time(h2, m2)
        except ValueError as exc:
            raise ValueError(f"{value!r}: {exc}") from None
        return {"start": start, "end": end}

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("the end must be after the start (split overnight hours over two days)")
        return self


class BusinessCalendar(_Model):
    """When a team is staffed: weekly hours in a timezone, minus holidays. Missing days are closed."""

    timezone: str
    hours: dict[Weekday, list[TimeWindow]]
    holidays: list[date] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone such as 'America/New_York'") from None
        return value

    def is_open(self, at: datetime) -> bool:
        """Whether the calendar is open at the aware instant ``at`` (naive is refused: no guessing)."""
        if at.tzinfo is None:
            raise ValueError("is_open needs an aware datetime")
        local = at.astimezone(zoneinfo.ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        windows = self.hours.get(_WEEKDAYS[local.weekday()], [])
        now = local.time().replace(tzinfo=None)
        return any(w.start <= now < w.end or (w.end == time.max and now >= w.start) for w in windows)


class SlaPolicy(_Model):
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
    by_priority: dict[Priority, SlaTargets] = {}
    by_platform: dict[Platform, SlaTargets] = {}
    calendars: dict[Slug, BusinessCalendar] = {}

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


# --- intake, Slack, routing, replies ----------------------------------------------------


class Intake(_Model):
    """The generic intake endpoint (``POST /v1/messages``)."""

    #: Env var holding comma-separated API keys; several so keys can be rotated without downtime.
    api_keys_env: EnvName
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)


class SlackSettings(_Model):
    """Where escalations are posted. With no token in the environment the notifier writes locally."""

    token_env: EnvName = "SLACK_BOT_TOKEN"
    #: ``None`` means the real ``https://slack.com/api/``; tests point it at a local fake.
    base_url: HttpUrl | None = None
    signing_secret_env: EnvName | None = "SLACK_SIGNING_SECRET"


class KeywordRule(_Model):
    """Words that send a ticket to a skill, a level, or a priority (any combination)."""

    keywords: list[Cue] = Field(min_length=1)
    skill: Slug | None = None
    level: Level | None = None
    priority: Priority | None = None

    @model_validator(mode="after")
    def _does_something(self) -> Self:
        if self.skill is None and self.level is None and self.priority is None:
            raise ValueError("a keyword rule must set skill, level or priority")
        return self


class RoutingRules(_Model):
    """The first, rule-based classification pass; cues are matched case-insensitively.

    Seed 000: marketing queries (collaborations, influencer offers, campaigns) are not the
    CX team's to answer, so they are routed to marketing before any agent sees them.
    """

    marketing_cues: dict[LanguageCode, list[Cue]] = {}
    ignore_cues: dict[LanguageCode, list[Cue]] = {}
    default_priority: Priority = "medium"
    keyword_rules: list[KeywordRule] = []

    def all_marketing_cues(self) -> frozenset[str]:
        """Every marketing cue, all languages together (a post may mix languages)."""
        return frozenset(cue for cues in self.marketing_cues.values() for cue in cues)

    def all_ignore_cues(self) -> frozenset[str]:
        """Every ignore cue, all languages together."""
        return frozenset(cue for cues in self.ignore_cues.values() for cue in cues)


class SavedReply(_Model):
    """A canned response (seed 000's Freshdesk canned responses), one text per language."""

    title: str | None = None
    #: Brands that may use it; ``None`` means every brand.
    brands: list[Slug] | None = None
    text: dict[LanguageCode, Text] = Field(min_length=1)

    def text_for(self, language: str, *, fallback: str = "en") -> str:
        """The text in ``language``, else its base language ("es-MX" → "es"), else ``fallback``."""
        for candidate in (language, language.split("-", 1)[0], fallback):
            if candidate in self.text:
                return self.text[candidate]
        return next(iter(self.text.values()))


# --- the whole file ---------------------------------------------------------------------

_CROSS_FIELD = "config_cross_field"


class SocialdeskConfig(_Model):
    """The validated deployment. Build it with :func:`load_config`; it never changes after."""

    #: Format version of this file, so a future incompatible layout can be detected.
    version: Literal[1] = 1
    brands: list[Brand] = Field(min_length=1)
    agents: list[Agent] = Field(min_length=1)
    sla: SlaPolicy = SlaPolicy()
    intake: Intake
    slack: SlackSettings = SlackSettings()
    routing: RoutingRules = RoutingRules()
    saved_replies: dict[Slug, SavedReply] = {}
    #: Classifier thresholds (auto-reply confidence per brand, grouping, trend and spike
    #: windows). Validated by the classifier service against its own model at start: the
    #: runtime does not know the classifier's settings (services depend on the runtime,
    #: never the reverse).
    classifier: dict[str, Any] = {}

    _env: Mapping[str, str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        # Problems between sections are collected and raised together, each with its own
        # location, so load_config can still point at the right line for every one.
        problems = list(_cross_field_problems(self))
        if problems:
            raise PydanticCustomError(
                _CROSS_FIELD,
                "{summary}",
                {
                    "summary": "; ".join(f"{_render_loc(loc)}: {msg}" for loc, msg in problems),
                    "problems": problems,
                },
            )
        return self

    # -- look-ups --

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


def _cross_field_problems(cfg: SocialdeskConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:
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


def _walk_env_refs(node: BaseModel, path: tuple[str | int, ...]) -> Iterator[tuple[str, str]]:
    for name in type(node).model_fields:
        value = getattr(node, name)
        here = (*path, name)
        if name.endswith("_env") and isinstance(value, str):
            yield _render_loc(here), value
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


# --- loading ----------------------------------------------------------------------------


class ConfigError(Exception):
    """The configuration file was refused. ``str()`` lists every problem, one per line.

    ``problems`` holds the same lines (``file:line: field: message``) for callers that
    want to show them differently.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        header = f"{source}: configuration refused ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *(f"  {p}" for p in self.problems)]))


def load_config(path: Path, *, env: Mapping[str, str] | None = None) -> SocialdeskConfig:
    """Read, validate and return the configuration at ``path``.

    ``env`` replaces ``os.environ`` for :meth:`SocialdeskConfig.secret` (tests pass a dict).
    Raises :class:`ConfigError` listing every problem with its line, never a partial config.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [f"{source}: cannot read the file: {exc}"]) from None

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ConfigError(source, [f"{source}:1: the file is empty; start from socialdesk.example.yaml"])
        if not isinstance(root, yaml.MappingNode):
            line = root.start_mark.line + 1
            raise ConfigError(
                source, [f"{source}:{line}: the top level must be a mapping of sections (brands:, ...)"]
            )
        problems = [(line, f"{source}:{line}: {msg}") for line, msg in _duplicate_keys(root)]
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        reason = ": ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(source, [f"{where}: not valid YAML: {reason}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"{source}: not valid YAML: {exc}"]) from None
    finally:
        loader.dispose()

    try:
        cfg = SocialdeskConfig.model_validate(data)
    except ValidationError as exc:
        for loc, msg in _flatten_errors(exc):
            line = _line_of(root, loc)
            problems.append((line, f"{source}:{line}: {_render_loc(loc) or '(top level)'}: {msg}"))
    else:
        if not problems:
            cfg._env = env
            return cfg
    problems.sort(key=lambda item: item[0])
    raise ConfigError(source, [text for _, text in problems])


def _flatten_errors(exc: ValidationError) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(error["loc"])
        if error["type"] == _CROSS_FIELD:
            ctx = error.get("ctx") or {}
            for sub_loc, msg in ctx.get("problems", []):
                yield (*loc, *sub_loc), msg
        elif error["type"] == "extra_forbidden":
            yield loc, _unknown_key_message(loc)
        else:
            yield loc, str(error["msg"]).removeprefix("Value error, ")


def _render_loc(loc: Sequence[str | int]) -> str:
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


def _line_of(root: yaml.Node, loc: Sequence[str | int]) -> int:
    """The 1-based line of the deepest node of ``loc`` present in the file.

    A missing field is reported at its parent's line; a mapping entry at its key's line
    (where the person typed the name), not at its value's.
    """
    node: yaml.Node = root
    line = root.start_mark.line + 1
    for item in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(item):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int) and 0 <= item < len(node.value):
            node = node.value[item]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_keys(node: yaml.Node, seen_nodes: set[int] | None = None) -> Iterator[tuple[int, str]]:
    """PyYAML silently keeps the last of two equal keys; a repeated ``L3:`` is a mistake here."""
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:  # aliases point at the same node; check it once
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                line = key_node.start_mark.line + 1
                if key_node.value in first:
                    yield line, f"{key_node.value}: duplicate key (first on line {first[key_node.value]})"
                first.setdefault(key_node.value, line)
            yield from _duplicate_keys(value_node, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _duplicate_keys(child, seen_nodes)


def _unknown_key_message(loc: Sequence[str | int]) -> str:
    key = str(loc[-1])
    allowed = _fields_at(loc[:-1])
    if not allowed:
        return f"unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r}; allowed here: {', '.join(allowed)}"


def _fields_at(loc: Sequence[str | int]) -> list[str]:
    """The field names of the model found at ``loc``, to suggest a fix for a mistyped key."""
    current: Any = SocialdeskConfig
    for item in loc:
        current = _model_or_container(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(item))
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) is list:
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
    current = _model_or_container(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_or_container(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the model or container inside."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _model_or_container(inner[0]) if len(inner) == 1 else annotation
    return annotation


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m socialdesk_runtime.config FILE``: check a file before deploying it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m socialdesk_runtime.config path/to/socialdesk.yaml\n")
        return 2
    try:
        cfg = load_config(Path(args[0]))
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    sys.stdout.write(f"{args[0]}: OK ({len(cfg.brands)} brands, {len(cfg.agents)} agents)\n")
    for missing in cfg.missing_secrets():
        sys.stdout.write(f"  not set in this environment: {missing}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
