"""The deployment's one configuration file: brands, agents, SLA, routing, Slack, saved replies.

A deployment is described by a single YAML file (``deploy/config/socialdesk.example.yaml``
is the annotated template). It is read once at start by :func:`load_config`, validated by
pydantic, and a bad file stops the process with every problem listed, each naming the
file line and the field.

Secrets never live in the file. Fields ending in ``_env`` hold the *name* of an environment
variable (``token_env: AGENT_ANA_TOKEN``); :meth:`SocialdeskConfig.secret` reads it when
called, so a rotated secret is picked up without re-reading the file and the file can be
committed and reviewed like code.

The package is split by concern: ``types`` (field types), ``sections`` and ``model`` (the
sections as frozen data, and the whole file), ``rules`` (cross-field rules), ``loader``
(YAML with line numbers and "did you mean"). Import from here.

Usage::

    from socialdesk_runtime.config import load_config

    cfg = load_config(Path("deploy/config/socialdesk.example.yaml"))
    brand = cfg.brand("ourbus")
    token = cfg.secret(cfg.slack.token_env)  # None when unset

Check a file by hand: ``socialdesk config check path/to/socialdesk.yaml``.
"""

from socialdesk_runtime.config.loader import ConfigError, load_config
from socialdesk_runtime.config.model import (
    Brand,
    BusinessCalendar,
    RoutingRules,
    SavedReply,
    SlaPolicy,
    SocialdeskConfig,
)
from socialdesk_runtime.config.sections import (
    Agent,
    FacebookAccount,
    InstagramAccount,
    Intake,
    KeywordRule,
    PlatformAccounts,
    SlackSettings,
    SlaTargets,
    TimeWindow,
    WhatsAppAccount,
    XAccount,
)
from socialdesk_runtime.config.sla import SlaLadder, SlaPolicyRule
from socialdesk_runtime.config.types import LEVELS, Level, SlackPurpose

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
    "SlaLadder",
    "SlaPolicy",
    "SlaPolicyRule",
    "SlaTargets",
    "SlackPurpose",
    "SlackSettings",
    "SocialdeskConfig",
    "TimeWindow",
    "WhatsAppAccount",
    "XAccount",
    "load_config",
]
