"""Priority from explicit, explained factors (issue 14).

Each factor is a named fact about the post with the level it implies; the decision is the
highest level any factor implies, bounded by what the taxonomy allows the category, and the
reasons list names every factor that counted. The facts themselves (time pressure, stranded
or not, a question about one's own booking or a general one) are in
:mod:`socialdesk_classifier.nlp.priority_factors` and the lexicon's cues, in every language
the classifier detects.

Factors, in the taxonomy's words (taxonomy.md, read literally):

- category: safety and legal are critical; praise, promo, spam and other are low;
- harm: personal data exposed or an account taken over (critical);
- customer stranded now: the bus did not come or left them, for a trip today, and they have
  not found another way (critical); a trip cancelled while its riders stand at the pickup,
  or a bus that broke down at the pickup or lot before it could leave, strands them too. On
  a bus that broke down on the road, or whose AC, heating or e-tickets fail, riders are on
  an active trip in trouble (high); so are riders whose bags were left behind today;
- audience: a public complaint from an author at or above the brand's viral threshold (critical);
- money: charged twice, a refund overdue (high);
- time pressure (high): a trip under way, now, today, tonight, within hours, someone at the
  stop, tomorrow (within 24 hours); "this morning" dates a complaint, it is no pressure;
- tone: openly furious (anger cues, heavy caps) on a complaint (high);
- repeated contact: writing again about the same thing (one step up: medium -> high);
- a rider who got there or found another way, or writes to claim the money back, reports a
  past problem (medium);
- a question: about one's own booking (a booking reference, the state of one trip, one's
  own trip on a given day, something of one's own that fails) is medium; a plain FAQ or a
  general information question with no time pressure is low, even when it says "my ticket";
- a request is medium; a complaint about a past or settled problem is medium.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from socialdesk_classifier.nlp import priority_factors as pf
from socialdesk_classifier.nlp.features import Analysis
from socialdesk_classifier.nlp.types import Post

__all__ = ["LEVELS", "PriorityDecision", "PriorityKinds", "decide_priority"]

LEVELS = ("low", "medium", "high", "critical")
_PUBLIC_KINDS = ("mention", "comment")
#: Incident types (grouping.yaml) that leave riders stranded: no bus came, or it left them.
_STRANDING = frozenset({"no_show", "left_behind"})
#: Incident types of a trip under way in trouble: riders are on the bus or at the door.
_ON_BOARD = frozenset({"breakdown", "ac_failure", "heating_failure", "accident", "ticket_scan"})
#: Incident types of harm to personal data.
_HARM = frozenset({"data_exposure", "account_takeover"})
_FAQ_TOPICS = ("topic_luggage", "topic_pets", "topic_wifi", "topic_ticket", "topic_refund", "topic_rally_tip")


class PriorityKinds(NamedTuple):
    """Incident types and word families that strand riders or put a trip in trouble."""

    stranding: frozenset[str]
    on_board: frozenset[str]
    #: discomforts riders also report after the trip ("the toilet was broken"): a trip in
    #: trouble only when the post does not tell them in the past
    on_board_now: frozenset[str] = frozenset()
    #: ... of which the weak ones ("so hot", "freezing") also need a bus named: else weather
    weak_now: frozenset[str] = frozenset()

    @classmethod
    def of(cls, roles: Mapping[str, str], weights: Mapping[str, float] | None = None) -> PriorityKinds:
        """The built-in types plus grouping's families by their ``priority`` role
        (``stranding`` / ``on_board`` / ``on_board_now``) and, for the last, their weight;
        built once per classifier, not per post."""
        now = frozenset(k for k, r in roles.items() if r == "on_board_now")
        return cls(
            _STRANDING.union(k for k, r in roles.items() if r == "stranding"),
            _ON_BOARD.union(k for k, r in roles.items() if r == "on_board"),
            now,
            frozenset(k for k in now if (weights or {}).get(k, 1.0) < 1.0),
        )


_BUILT_IN = PriorityKinds(_STRANDING, _ON_BOARD)


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
    places: bool = False,
    kinds: PriorityKinds = _BUILT_IN,
    model_high: float = 0.0,
) -> PriorityDecision:
    """Decide priority for a post of ``category``.

    ``incident`` holds the incident types the post reports happening now (empty for a post
    about an earlier trip). ``probs`` (the model's priority head) only sets the confidence of
    a decision no factor raised, except where ``model_high`` (0 never) is reached: a complaint
    or question no named factor raised above medium is high when the head puts at least that
    much on high and critical together. ``places``: the post
    names a place, stop, route or venue; ``kinds``: what strands riders or puts a trip in
    trouble (:meth:`PriorityKinds.of` adds grouping's word families to the built-in types)."""
    cues = analysis.cues
    if category in ("safety", "legal"):
        return PriorityDecision("critical", 0.99, (f"category {category} is always critical",))
    if category in ("praise", "promo", "spam", "other", "unknown"):
        return PriorityDecision("low", 0.95, (f"category {category} is always low",))
    if "data_breach" in cues:
        return PriorityDecision(
            "critical",
            0.9,
            (f"harm: personal data or account compromised ('{_snip(analysis, 'data_breach')}')",),
        )
    if incident & _HARM and category in ("complaint", "query"):
        return PriorityDecision("critical", 0.85, (f"harm: {', '.join(sorted(incident & _HARM))} reported",))
    crit = _critical(post, analysis, category, incident, viral_followers, kinds)
    if crit is not None:
        return crit
    high = _high_factors(analysis, category, incident, kinds)
    if high:
        return PriorityDecision("high", 0.8, tuple(high))
    if "repeat_contact" in cues:
        return PriorityDecision(
            "high",
            0.7,
            (f"repeated contact ('{_snip(analysis, 'repeat_contact')}'): one step up from medium",),
        )
    medium = probs.get("medium", 0.0)
    urgent = probs.get("high", 0.0) + probs.get("critical", 0.0)
    if (
        model_high
        and category in ("complaint", "query")
        and urgent >= model_high
        # the factors' own word that it is over: a trip in the past, a rider who got there
        and "past_trip" not in cues
        and not pf.after_the_fact(analysis)
        and not (incident & kinds.on_board_now and pf.told_in_past(analysis))
        and not (category == "complaint" and pf.over_by_now(analysis))
    ):
        # The factors above read a trip in trouble from patterns; riders tell it in more ways
        # ("the heater is stuck on full blast", "which gate is it??") than patterns carry.
        return PriorityDecision(
            "high", min(0.75, urgent), (f"the wording reads as a trip in trouble now (model p={urgent:.2f})",)
        )
    if category == "request":
        return PriorityDecision("medium", 0.75, ("a request with no trip today",))
    if category == "complaint":
        settled = _stranding(analysis, incident, kinds) and pf.after_the_fact(analysis)
        why = "the rider got there or found another way" if settled else "a past or settled problem"
        return PriorityDecision("medium", 0.75, (f"a complaint about {why}",))
    if "short_ask" in cues:
        return PriorityDecision("medium", 0.7, ("a very short ask",))
    # A query with no time pressure: about one's own booking (medium), else a plain FAQ or a
    # general question (low).
    specifics = pf.booking_specifics(analysis)
    if specifics is not None:
        return PriorityDecision("medium", 0.7, (f"about the asker's own booking: {specifics}",))
    if incident and not pf.conditional(analysis):
        return PriorityDecision(
            "medium",
            0.65,
            (f"asks about a trip of their own that went wrong ({', '.join(sorted(incident))})",),
        )
    if "anger" in cues or "sarcasm" in cues:
        return PriorityDecision("medium", 0.6, ("a question in a negative tone: not a plain FAQ",))
    planned = next((c for c in ("own_booking", "trip_date") if c in cues), None)
    if planned is not None and not pf.conditional(analysis):
        # "can I bring my dog on the Ithaca bus Sunday?": a FAQ about a trip the asker has
        # booked or planned is about their own booking (dev.jsonl labels it medium).
        return PriorityDecision(
            "medium", 0.65, (f"about a trip of the asker's own ('{_snip(analysis, planned)}')",)
        )
    faq = next((c for c in _FAQ_TOPICS if c in cues), None)
    if faq is not None:
        return PriorityDecision("low", 0.7, (f"a plain FAQ ({faq}) with no time pressure",))
    if "coverage_ask" in cues and post.brand != "rally":
        # "do you go to Montreal?", "is there a night bus to Boston?", "a student discount?":
        # whether the network serves a place is general information (a rally question names
        # one event instead, and stays with the particular ones below).
        return PriorityDecision(
            "low", 0.6, (f"a general question about the network ('{_snip(analysis, 'coverage_ask')}')",)
        )
    if places:
        # A particular route, stop, town or event ("does the Ithaca bus stop in Binghamton?"):
        # one of the "most queries" the taxonomy calls medium, not a general information one.
        return PriorityDecision("medium", 0.6, ("asks about a particular route, stop or event",))
    return PriorityDecision(
        "low",
        max(0.5, 1.0 - medium),
        ("a general information question: no time pressure, no booking of the asker's own",),
    )


def _stranding(analysis: Analysis, incident: frozenset[str], kinds: PriorityKinds) -> frozenset[str]:
    """The stranding incident types that hold for people (not bags, not a ticket in an app)."""
    stranding = incident & kinds.stranding
    if "left_behind" in stranding and pf.luggage_left_now(analysis):
        stranding = stranding - {"left_behind"}
    if "no_show" in stranding and (not pf.names_a_vehicle(analysis) or pf.still_coming(analysis)):
        stranding = stranding - {"no_show"}
    if stranding and pf.hypothetical(analysis):
        stranding = frozenset()
    if "rally_cancelled" in incident and pf.at_pickup_now(analysis):
        # A trip cancelled while its riders stand at the pickup: stranded as by a no-show.
        stranding = stranding | {"rally_cancelled at the pickup"}
    return stranding


def _critical(
    post: Post,
    analysis: Analysis,
    category: str,
    incident: frozenset[str],
    viral_followers: int,
    kinds: PriorityKinds,
) -> PriorityDecision | None:
    cues = analysis.cues
    past = "past_trip" in cues
    if category in ("complaint", "query") and not past:
        stranding = _stranding(analysis, incident, kinds)
        if stranding and not pf.after_the_fact(analysis):
            return PriorityDecision(
                "critical", 0.85, (f"stranded now: {', '.join(sorted(stranding))} reported for a trip today",)
            )
        if pf.stuck_at_the_pickup(analysis, incident) and not pf.after_the_fact(analysis):
            return PriorityDecision(
                "critical", 0.8, ("stranded now: the bus broke down at the pickup, riders stuck there",)
            )
    if category != "complaint":
        return None
    on_board = incident & kinds.on_board
    if (
        "stranded_now" in cues
        and not past
        and not on_board
        and not pf.after_the_fact(analysis)
        and not pf.luggage_left_now(analysis)
        and not pf.still_coming(analysis)
    ):
        return PriorityDecision("critical", 0.85, (f"stranded now ('{_snip(analysis, 'stranded_now')}')",))
    if post.author_followers >= viral_followers and post.kind in _PUBLIC_KINDS:
        return PriorityDecision(
            "critical",
            0.85,
            (f"audience: public complaint from {post.author_followers} followers (>= {viral_followers})",),
        )
    return None


def _high_factors(
    analysis: Analysis, category: str, incident: frozenset[str], kinds: PriorityKinds
) -> list[str]:
    cues = analysis.cues
    past = "past_trip" in cues
    high: list[str] = []
    for cue, why in (("double_charge", "money: charged twice"), ("refund_overdue", "money: refund overdue")):
        if cue in cues:
            high.append(f"{why} ('{_snip(analysis, cue)}')")
    if "double_charge" in incident and "double_charge" not in cues:
        high.append("money: charged twice (incident)")
    pressure = pf.time_pressure(analysis, category)
    if pressure is not None and not (category == "complaint" and pf.after_the_fact(analysis)):
        high.append(f"time pressure: {pressure.kind} ('{pressure.snippet}')")
    if category in ("complaint", "query") and not past:
        on_board = incident & kinds.on_board
        now = incident & kinds.on_board_now
        if now & kinds.weak_now and not pf.names_a_vehicle(analysis):
            now = now - kinds.weak_now  # "so hot in the city today": the weather, not a trip
        if now and not pf.told_in_past(analysis):
            on_board |= now
        if on_board and not pf.after_the_fact(analysis):
            high.append(f"a trip under way in trouble: {', '.join(sorted(on_board))}")
        if (
            (incident & kinds.stranding or "stranded_now" in cues)
            and (pf.minutes_overdue(analysis.clean.text) is not None or pf.still_coming(analysis))
            and not pf.after_the_fact(analysis)
        ):
            high.append("a bus overdue now: riders waiting for it")
        if "topic_luggage" in cues and pf.luggage_left_now(analysis):
            high.append("a trip under way in trouble: luggage left behind")
        if category == "query" and "stranded_now" in cues:
            high.append(f"waiting at the stop now ('{_snip(analysis, 'stranded_now')}')")
    if category == "complaint" and "anger" in cues:
        high.append(f"tone: openly furious ('{_snip(analysis, 'anger')}')")
    elif category == "complaint" and (analysis.clean.caps_ratio >= 0.5 or pf.shouts(analysis)):
        high.append("tone: openly furious (caps)")
    return high
