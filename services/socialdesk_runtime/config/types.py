"""Field types of the configuration file: ids, env-var names, channel ids, durations.

Each constrained type checks one value and explains a refusal to the person editing the
YAML (a support lead), not to a developer. The escalation ladder (``Level``, ``LADDER``)
and the SLA metrics come from the contract (:mod:`socialdesk_schemas`): defined once.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from socialdesk_schemas import LADDER, Level, SlaMetric

__all__ = [
    "LEVELS",
    "TWENTY_FOUR_SEVEN",
    "WEEKDAYS",
    "AgentId",
    "ConfigModel",
    "Cue",
    "EnvName",
    "LanguageCode",
    "Level",
    "NumericId",
    "Seconds",
    "SlaMetric",
    "SlackChannelId",
    "SlackPurpose",
    "SlackUserId",
    "Slug",
    "Text",
    "Weekday",
]

#: The full ladder, lowest first (the contract's ``LADDER``); kept under this name for importers.
LEVELS: tuple[Level, ...] = LADDER
#: A Slack channel is keyed by the level that watches it or by a purpose that has no level.
SlackPurpose = Literal[Level, "warnings", "crisis", "marketing"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
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


class ConfigModel(BaseModel):
    """Frozen and strict about keys: a typo such as ``levle:`` must fail, not be ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
