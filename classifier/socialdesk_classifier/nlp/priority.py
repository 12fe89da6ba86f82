"""Priority from explicit, explained factors (issue 14).

Each factor is a named fact about the post with the level it implies; the decision is the
highest level any factor implies, bounded by what the taxonomy allows the category, and the
reasons list names every factor that counted. The statistical model is consulted only when
no factor applies (a query or complaint with nothing that raises or lowers it), so adjacent
confusions come from the model's calibrated probabilities, not from word lists.

Factors, in the taxonomy's words:

- category: safety and legal are critical; praise, promo, spam and other are low;
- harm: personal data exposed or an account taken over (critical);
- customer stranded now (the bus did not come or left them, for a trip today, and they have
  not found another way yet: critical); on a bus that broke down or whose AC, heating or
  e-tickets fail, riders are on an active trip in trouble (high), not stranded;
- audience: a public complaint from an author at or above the brand's viral threshold (critical);
- money: charged twice, a refund overdue (high);
- time pressure: a trip under way, today, tomorrow or in the next hours, someone at the stop (high);
- tone: openly furious (anger cues, heavy caps) on a complaint (high);
- repeated contact: writing again about the same thing (one step up: medium -> high);
- a plain FAQ with no booking of one's own and no time pressure is low; a question about
  one's own booking is medium; a request is medium;
- a rally cancelled while its riders wait at the pickup strands them (critical).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from socialdesk_classifier.nlp.features import Analysis
from socialdesk_classifier.nlp.types import Post

__all__ = ["LEVELS", "PriorityDecision", "decide_priority"]

LEVELS = ("low", "medium", "high", "critical")
_PUBLIC_KINDS = ("mention", "comment")
#: Incident types (grouping.yaml) that leave riders stranded: no bus came, or it left them.
_STRANDING = frozenset({"no_show", "left_behind"})
#: Incident types of a trip under way in trouble: riders are on the bus or at the door.
_ON_BOARD = frozenset({"breakdown", "ac_failure", "heating_failure", "accident", "ticket_scan"})
#: The rider has since found their own way: no longer stranded (the trip is still today).
_RESOLVED = re.compile(
    r"\b(gave up|giving up|took an? (uber|lyft|taxi|cab|train)|paid .{0,25}\b(uber|lyft|taxi|cab)|"
    r"bought an? .{0,20}ticket|got home|made it (home|back)|finally (came|arrived|picked us up)|"
    r"driving ourselves|just got off|got off the bus|missed my (bus|trip|\w+ bus)|"
    r"desistimos|desisti|on a pris un (taxi|uber))\b",
    re.IGNORECASE,
)
#: Someone at the pickup point right now (with a trip cancelled under them, that is stranded).
_AT_PICKUP_NOW = re.compile(
    r"\b((still|are|we'?re|i'?m|been) (standing|waiting|stuck|sitting)\b|on the curb|at the (stop|pickup|pick-up)( point)?"
    r" (now|right now)|(estamos|estoy|seguimos) (en|esperando|no ponto|na parada)|estou no ponto|"
    r"on attend (toujours|encore|devant)|nous attendons|masih menunggu)\b"
    r"|我们在.{0,12}等|还在等|待っています|立ち往生",
    re.IGNORECASE,
)
_FAQ_TOPICS = ("topic_luggage", "topic_pets", "topic_wifi", "topic_ticket", "topic_refund", "topic_rally_tip")


@dataclass(frozen=True, slots=True)
class PriorityDecision:
    """The level, a confidence and the factors that decided it."""

    level: str
    confidence: float
    factors: tuple[str, ...]


def _snip(analysis: Analysis, cue: str) -> str:
    return analysis.cues[cue].snippet


def decide_priority(
    post: Post,
    analysis: Analysis,
    category: str,
    probs: Mapping[str, float],
    *,
    viral_followers: int,
    incident: frozenset[str] = frozenset(),
) -> PriorityDecision:
    """Decide priority for a post of ``category`` (model ``probs`` used only as the fallback).

    ``incident`` holds the incident types the post reports happening now (empty for a post
    about an earlier trip)."""
    cues = analysis.cues
    if category in ("safety", "legal"):
        return PriorityDecision("critical", 0.99, (f"category {category} is always critical",))
    if category in ("praise", "promo", "spam", "other", "unknown"):
        return PriorityDecision("low", 0.95, (f"category {category} is always low",))
    past = "past_trip" in cues
    factors: list[str] = []
    if "data_breach" in cues:
        return PriorityDecision(
            "critical",
            0.9,
            (f"harm: personal data or account compromised ('{_snip(analysis, 'data_breach')}')",),
        )
    stranding = incident & _STRANDING
    if "rally_cancelled" in incident and _AT_PICKUP_NOW.search(analysis.clean.text):
        # A trip cancelled while its riders stand at the pickup: stranded as by a no-show.
        stranding = stranding | {"rally_cancelled at the pickup"}
    on_board = incident & _ON_BOARD
    resolved = _RESOLVED.search(analysis.clean.text) is not None
    if category in ("complaint", "query") and stranding and not past and not resolved:
        return PriorityDecision(
            "critical", 0.85, (f"stranded now: {', '.join(sorted(stranding))} reported for a trip today",)
        )
    if category == "complaint":
        if "stranded_now" in cues and not past and not resolved and not (on_board and not stranding):
            return PriorityDecision(
                "critical", 0.85, (f"stranded now ('{_snip(analysis, 'stranded_now')}')",)
            )
        if post.author_followers >= viral_followers and post.kind in _PUBLIC_KINDS:
            return PriorityDecision(
                "critical",
                0.85,
                (
                    f"audience: public complaint from {post.author_followers} followers (>= {viral_followers})",
                ),
            )
    high: list[str] = []
    for cue, why in (("double_charge", "money: charged twice"), ("refund_overdue", "money: refund overdue")):
        if cue in cues:
            high.append(f"{why} ('{_snip(analysis, cue)}')")
    if "active_trip" in cues and not past:
        high.append(f"time pressure ('{_snip(analysis, 'active_trip')}')")
    if category in ("complaint", "query") and on_board and not past and not resolved:
        high.append(f"a trip under way in trouble: {', '.join(sorted(on_board))}")
    if category == "complaint" and stranding and not past:
        high.append(f"{', '.join(sorted(stranding))} today, rider found another way")
    if category == "query" and "stranded_now" in cues and not past:
        high.append(f"waiting at the stop now ('{_snip(analysis, 'stranded_now')}')")
    if category == "complaint" and ("anger" in cues or analysis.clean.caps_ratio >= 0.5):
        high.append(
            "tone: openly furious" + (f" ('{_snip(analysis, 'anger')}')" if "anger" in cues else " (caps)")
        )
    if high:
        return PriorityDecision("high", 0.8, tuple(high))
    if "repeat_contact" in cues and category in ("complaint", "request", "query"):
        return PriorityDecision(
            "high",
            0.7,
            (f"repeated contact ('{_snip(analysis, 'repeat_contact')}'): one step up from medium",),
        )
    if category == "request":
        return PriorityDecision("medium", 0.75, ("a request with no time pressure",))
    if category == "complaint":
        return PriorityDecision("medium", 0.75, ("a complaint about a past or settled problem",))
    if "short_ask" in cues:
        return PriorityDecision("medium", 0.7, ("a very short ask",))
    # A query: plain FAQ (low) or about one's own booking (medium); the model decides the rest.
    faq = [c for c in _FAQ_TOPICS if c in cues]
    if "own_booking" in cues or "act_on_account" in cues:
        factors.append(
            f"about the asker's own booking ('{_snip(analysis, 'own_booking' if 'own_booking' in cues else 'act_on_account')}')"
        )
        return PriorityDecision("medium", 0.7, tuple(factors))
    if faq:
        return PriorityDecision("low", 0.7, (f"a general FAQ ({faq[0]}) with no time pressure",))
    allowed = ("low", "medium")
    total = sum(probs.get(p, 0.0) for p in allowed) or 1.0
    best = max(allowed, key=lambda p: probs.get(p, 0.0))
    return PriorityDecision(
        best, probs.get(best, 0.0) / total, (f"model priority={best} (no factor applies)",)
    )
