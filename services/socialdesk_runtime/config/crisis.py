"""The ``crisis`` section (issue 11): who is paged in a brand's crisis channel, per severity.

A spike (``SpikeDetected``) or a safety report pages the brand's ``crisis`` Slack channel
and mentions the people listed for that severity; a severity with nobody listed falls
back to the next lower one that has people (so ``critical`` pages at least the ``major``
contacts)::

    crisis:
      contacts:
        ourbus: {major: [U0FARAH], critical: [U0FARAH, U0GABE]}
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from socialdesk_runtime.config.types import ConfigModel, SlackUserId, Slug

__all__ = ["SEVERITIES", "CrisisSettings", "Severity"]

Severity = Literal["minor", "major", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = ("minor", "major", "critical")


class CrisisSettings(ConfigModel):
    #: brand id → severity → Slack user ids to mention.
    contacts: dict[Slug, dict[Severity, list[SlackUserId]]] = Field(default_factory=dict)

    def contacts_for(self, brand: str, severity: str) -> list[str]:
        """The people to mention for ``severity`` (or the nearest lower severity with people)."""
        by_severity = self.contacts.get(brand, {})
        if severity not in SEVERITIES:
            return []
        for level in reversed(SEVERITIES[: SEVERITIES.index(severity) + 1]):
            if by_severity.get(level):
                return list(by_severity[level])
        return []
