"""Sections of the configuration file that are plain data: accounts, agents, SLA pieces,
intake, Slack and keyword rules. Sections that still carry behaviour are in ``model``."""

from __future__ import annotations

import re
from datetime import time
from typing import Any, Self

from pydantic import Field, HttpUrl, model_validator

from socialdesk_runtime.config.types import (
    AgentId,
    ConfigModel,
    Cue,
    EnvName,
    LanguageCode,
    Level,
    NumericId,
    Seconds,
    SlackUserId,
    Slug,
    Text,
)
from socialdesk_schemas import Priority

__all__ = [
    "Agent",
    "FacebookAccount",
    "InstagramAccount",
    "Intake",
    "KeywordRule",
    "PlatformAccounts",
    "SlaTargets",
    "SlackSettings",
    "TimeWindow",
    "WhatsAppAccount",
    "WhatsAppTemplate",
    "XAccount",
]


# --- platform accounts ------------------------------------------------------------


class FacebookAccount(ConfigModel):
    """A Facebook Page (its Messenger inbox included)."""

    page_id: NumericId
    app_secret_env: EnvName | None = None
    page_token_env: EnvName | None = None
    #: Answer a customer's comment with a private reply (a Messenger message) instead of a public one.
    private_comment_replies: bool = False
    #: Human-written replies may use the HUMAN_AGENT tag (7 days; needs Meta's App Review).
    human_agent_tag: bool = True


class InstagramAccount(ConfigModel):
    """An Instagram professional account, reached through the Meta Graph API."""

    account_id: NumericId
    app_secret_env: EnvName | None = None
    access_token_env: EnvName | None = None
    human_agent_tag: bool = True


class WhatsAppTemplate(ConfigModel):
    """An approved WhatsApp message template; ``parameters`` fill its body's {{1}}, {{2}}...

    Each parameter is ``reply_text`` (the agent's reply), ``brand_name`` or a fixed text.
    """

    name: Slug
    #: WhatsApp's own codes: ``en``, ``en_US``, ``pt_BR``.
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    parameters: list[Text] = Field(default_factory=lambda: ["reply_text"])


class WhatsAppAccount(ConfigModel):
    """A WhatsApp Business number; the Cloud API addresses it by ``phone_number_id``."""

    phone_number_id: NumericId
    app_secret_env: EnvName | None = None
    access_token_env: EnvName | None = None
    #: The approved template sent outside the 24 h window; without one such a reply fails.
    out_of_window_template: WhatsAppTemplate | None = None


class XAccount(ConfigModel):
    """An X (Twitter) account; the consumer secret signs webhook challenges."""

    user_id: NumericId
    consumer_secret_env: EnvName | None = None
    bearer_token_env: EnvName | None = None
    #: Our X app's id: a DM of the account sent through it (``source_app_id``) is an echo
    #: of a socialdesk reply, not one typed in X's own inbox.
    app_id: NumericId | None = None


class PlatformAccounts(ConfigModel):
    """Where a brand lives on each platform. Every platform is optional."""

    facebook: FacebookAccount | None = None
    instagram: InstagramAccount | None = None
    whatsapp: WhatsAppAccount | None = None
    x: XAccount | None = None


# --- agents -----------------------------------------------------------------------------


class Agent(ConfigModel):
    """A person on the desk. ``online`` is the presence at start; the assigner may update it."""

    id: AgentId
    name: Text
    brands: list[Slug] = Field(min_length=1)
    level: Level
    online: bool = True
    skills: list[Slug] = Field(default_factory=list)
    languages: list[LanguageCode] = Field(default_factory=lambda: ["en"])
    max_open_tickets: int = Field(default=15, ge=1)
    #: Env var holding this agent's bearer token for the desk API (replies are attributed by it).
    token_env: EnvName | None = None
    slack_user_id: SlackUserId | None = None


# --- SLA --------------------------------------------------------------------------------


class SlaTargets(ConfigModel):
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


class TimeWindow(ConfigModel):
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


# --- intake, Slack, keyword rules ---------------------------------------------------


class Intake(ConfigModel):
    """The generic intake endpoint (``POST /v1/messages``)."""

    #: Env var holding comma-separated API keys; several so keys can be rotated without downtime.
    api_keys_env: EnvName
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)


class SlackSettings(ConfigModel):
    """Where escalations are posted. With no token in the environment the notifier writes locally."""

    token_env: EnvName = "SLACK_BOT_TOKEN"
    #: ``None`` means the real ``https://slack.com/api/``; tests point it at a local fake.
    base_url: HttpUrl | None = None
    signing_secret_env: EnvName | None = "SLACK_SIGNING_SECRET"
    #: Socket Mode (no public URL for interactions): env var holding the app-level token
    #: (``xapp-...``, scope ``connections:write``); unset or empty: HTTP interactions only.
    app_token_env: EnvName | None = None


class KeywordRule(ConfigModel):
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
