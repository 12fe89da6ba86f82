"""The seam between the service and whatever decides: a ``Verdict`` for a message.

``RulesClassifier`` is the first pass, from configuration only: marketing cues send a
message to the marketing queue, ignore cues dismiss it, everything else is CX with the
configured default priority. The statistical classifier plugs in behind the same
``Decider`` signature.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from socialdesk_schemas import MessageReceived


@dataclass(frozen=True, slots=True)
class Verdict:
    queue: str
    category: str
    priority: str
    sentiment: str
    language: str
    auto_reply: str | None = None
    group_id: str | None = None
    confidence: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    version: str = "rules-1"


class Decider(Protocol):
    def decide(self, message: MessageReceived) -> Verdict: ...


def _cue_pattern(cues: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({c.strip().lower() for c in cues if c.strip()}, key=len, reverse=True)
    if not words:
        return None
    # Whole words (or phrases): "collab" must not fire inside "collaborate"? It should:
    # a prefix match catches inflections ("collabs", "sponsoring") without a stemmer.
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)


class RulesClassifier:
    """Queue by configured cue words; the seam's simplest honest implementation."""

    def __init__(
        self,
        *,
        marketing_cues: Iterable[str],
        ignore_cues: Iterable[str],
        default_priority: str,
        default_language: str = "en",
    ) -> None:
        self._marketing = _cue_pattern(marketing_cues)
        self._ignore = _cue_pattern(ignore_cues)
        self._default_priority = default_priority
        self._default_language = default_language

    def decide(self, message: MessageReceived) -> Verdict:
        text = message.text
        if self._marketing is not None and (m := self._marketing.search(text)):
            return Verdict(
                queue="marketing",
                category="promo",
                priority="low",
                sentiment="neutral",
                language=self._default_language,
                confidence={"queue": 0.6},
                reasons=[f"marketing cue {m.group(1).lower()!r}"],
            )
        if self._ignore is not None and (m := self._ignore.search(text)):
            return Verdict(
                queue="ignore",
                category="spam",
                priority="low",
                sentiment="neutral",
                language=self._default_language,
                confidence={"queue": 0.6},
                reasons=[f"ignore cue {m.group(1).lower()!r}"],
            )
        if not text.strip():
            return Verdict(
                queue="cx",
                category="unknown",
                priority=self._default_priority,
                sentiment="neutral",
                language="und",
                confidence={"queue": 0.3},
                reasons=["empty text: a person must look"],
            )
        return Verdict(
            queue="cx",
            category="query",
            priority=self._default_priority,
            sentiment="neutral",
            language=self._default_language,
            confidence={"queue": 0.5},
            reasons=["no marketing or ignore cue: customer service by default"],
        )
