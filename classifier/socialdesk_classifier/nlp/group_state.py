"""The records grouping keeps and hands out: an open group's state, a post's assignment and
the summary the desk and Slack show, and the index keys and join score they are read by (see
:mod:`~socialdesk_classifier.nlp.grouping`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from socialdesk_classifier.nlp.departures import DEPARTURE, DEPARTURE_WEIGHT
from socialdesk_classifier.nlp.signature import SPECIFIC_PLACE, IncidentSignature

__all__ = [
    "ANOTHER_DAY",
    "EARLIER",
    "LATER_DAY",
    "LONG_AGO",
    "OTHER_DAY",
    "PROBLEM",
    "WEEKDAY",
    "GroupAssignment",
    "GroupSummary",
    "OpenGroup",
    "Where",
    "compared",
    "consequence",
    "endpoint_conflict",
    "facet_conflict",
    "group_keys",
    "join_score",
    "place_conflict",
    "post_keys",
    "problem_report",
    "summarise",
    "where_of",
]

#: The incident type of a complaint or safety report that names a specific place but no
#: known kind of fault ("still stuck in Worcester"): it may open a group that later posts at
#: that place join, whatever they report.
PROBLEM = "problem"

# The dating facets grouping compares (grouping.yaml's ``facets``).
#: About an earlier trip, "yesterday" included (also feeds priority).
EARLIER = "earlier"
#: About another day's trip.
ANOTHER_DAY = "another_day"
#: Days, weeks or months ago: no local join at all (grouping-only facet).
LONG_AGO = "long_ago"
#: ... or an earlier day (riders report last night's stranding the next morning: with an
#: incident of its own and a place in common such a post still joins).
OTHER_DAY = frozenset({EARLIER, ANOTHER_DAY, LONG_AGO})
#: A weekday named ("the Sunday 5pm"): a departure time in common is then that day's bus.
WEEKDAY = "weekday"
#: A trip on a later day ("tomorrow", "next Sunday"): a question about it is not about today.
LATER_DAY = "later_day"


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """What the desk and Slack show for an incident group."""

    group_id: str
    incident_type: str
    place: str | None
    first_seen: datetime
    last_seen: datetime
    size: int

    def as_dict(self) -> dict[str, object]:
        """JSON-ready mapping (times as ISO-8601)."""
        return {
            "group_id": self.group_id,
            "incident_type": self.incident_type,
            "place": self.place,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "size": self.size,
        }


@dataclass(slots=True)
class OpenGroup:
    """An open incident group: what its posts reported and named, and when."""

    group_id: str
    brand: str
    first_seen: datetime
    last_seen: datetime
    size: int = 0
    types: Counter[str] = field(default_factory=Counter)
    #: the posts' own types and families (the summary names the commonest)
    labels: Counter[str] = field(default_factory=Counter)
    #: class -> the strongest weight a post gave it (how distinctive the group's evidence is)
    strength: dict[str, float] = field(default_factory=dict)
    entities: Counter[str] = field(default_factory=Counter)
    facets: Counter[str] = field(default_factory=Counter)
    keys: set[str] = field(default_factory=set)
    # Derived after each post joins (read by every candidate post, written by one):
    #: the types most of its posts report (what the group is about)
    core: frozenset[str] = frozenset()
    #: the type most of its posts report, and how many report its commonest local type
    top: str = ""
    local_most: int = 0
    #: its known places and the wider places they lie in; the same for specific places only
    around: frozenset[str] = frozenset()
    around_specific: frozenset[str] = frozenset()
    #: whether it names a known place, and a known town, stop, road or venue (weight >= 1)
    placed: bool = False
    named_specific: bool = False
    #: the route endpoints at least half of its posts name
    endpoints: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class GroupAssignment:
    """Where a post went: its group id (or None), the group's size, why, and its summary."""

    group_id: str | None
    size: int
    score: float
    shared: tuple[str, ...]
    summary: GroupSummary | None = None


class Where(NamedTuple):
    """A post's known places, as the conflict checks read them (see OpenGroup)."""

    around: frozenset[str]
    around_specific: frozenset[str]
    named_specific: bool
    endpoints: tuple[str, ...]


def where_of(
    places: Iterable[str], scope: Mapping[str, frozenset[str]], weight: Callable[[str], float]
) -> Where:
    """Known ``places`` (of a post or a group) as the conflict checks read them."""
    known = [p for p in places if p in scope]
    return Where(
        frozenset(q for p in known for q in scope[p]),
        frozenset(q for p in known if weight(p) >= SPECIFIC_PLACE for q in scope[p]),
        any(weight(p) >= 1.0 for p in known),
        tuple(p for p in known if 0.0 < weight(p) < SPECIFIC_PLACE),
    )


def compared(sig: IncidentSignature, class_of: dict[str, str]) -> IncidentSignature:
    """What grouping compares of a post: the classes of its types and word families (the
    highest weight of each), ``long_ago`` read as ``earlier`` too, and its departure times
    as specific entities ("@7:15": a stop's kind of evidence)."""
    kinds: dict[str, float] = {}
    for name, weight in (*sig.mentions.items(), *sig.types.items()):
        kind = class_of.get(name, name)
        if weight > kinds.get(kind, 0.0):
            kinds[kind] = weight
    facets = sig.facets
    if LONG_AGO in facets:  # "3 weeks ago" is also earlier
        facets |= {EARLIER}
    entities = sig.entities
    if sig.departures:
        entities = {**entities, **dict.fromkeys(sig.departures, DEPARTURE_WEIGHT)}
    return IncidentSignature(kinds, entities, facets)


#: How specific a place must be for a type-less report there to open a group (a town or a
#: venue, not a route endpoint nor a place many trips pass through such as Newark) ...
_PROBLEM_PLACE = 1.0
#: ... a known one, or a numbered road or street ("slid off Route 17": hwy17).
_NUMBERED = re.compile(r"(?:hwy|street)\d+$")
#: Categories whose type-less posts at a specific place report a problem.
_PROBLEM_CATEGORIES = frozenset({"complaint", "safety"})


def problem_report(sig: IncidentSignature, category: str | None, known: frozenset[str]) -> bool:
    """A complaint or safety report with no known kind of fault, at a specific place (a known
    town, stop or venue, or a numbered road or street): it may open a group (see PROBLEM)."""
    return (
        not sig.types
        and category in _PROBLEM_CATEGORIES
        and any(w >= _PROBLEM_PLACE and (e in known or _NUMBERED.match(e)) for e, w in sig.entities.items())
    )


#: Classes that are what any trouble does to a trip (late, no-show, held at a rest area):
#: a post of another kind at the same stop or road within the hour or two may be their cause
#: told from another side; two causes (a toilet, a fight) stay two incidents.
_CONSEQUENCES = frozenset({"no_ride", "stalled"})


def consequence(sig: IncidentSignature, group: OpenGroup) -> bool:
    """One side is only a consequence of the other: the group is about a bus late or held,
    or the post reports nothing else (see Grouper's cross-kind joins)."""
    return group.core <= _CONSEQUENCES or set(sig.types) - {PROBLEM} <= _CONSEQUENCES


def summarise(group: OpenGroup, type_label: dict[str, str], place_label: dict[str, str]) -> GroupSummary:
    """The group's type, place (its two commonest known places), first/last seen and size."""
    # Ties broken by name: counts are filled from sets, whose order follows the hash seed.
    ranked = [t for t, _ in sorted(group.labels.items(), key=_by_count) if t != PROBLEM]
    top_type = ranked[0] if ranked else (PROBLEM if group.types else "unknown")
    places = [p for p, _ in sorted(group.entities.items(), key=_by_count) if p in place_label][:2]
    return GroupSummary(
        group.group_id,
        type_label.get(top_type, "problem reported" if top_type == PROBLEM else top_type),
        " / ".join(place_label[p] for p in places) if places else None,
        group.first_seen,
        group.last_seen,
        group.size,
    )


def _by_count(item: tuple[str, float]) -> tuple[float, str]:
    return (-item[1], item[0])


def join_score(sig: IncidentSignature, types: list[str], places: list[str]) -> tuple[float, list[str]]:
    """The score of a join (the weights of what is shared) and what is shared, for the reasons."""
    score = sum(sig.types[t] for t in types if t in sig.types)
    score += sum(sig.entities[e] for e in places if e[0] != DEPARTURE)
    # departure keys ("@7:15", "@19:15": one ambiguous time) count once
    score += max((sig.entities[e] for e in places if e[0] == DEPARTURE), default=0.0)
    # Sorted: the lists come from set operations, whose order changes with the hash seed.
    return score, [f"type:{t}" for t in sorted(types)] + [f"entity:{e}" for e in sorted(places)]


def post_keys(sig: IncidentSignature) -> list[str]:
    """A post's lookup keys: its incident types and its specific places (an endpoint such as
    "nyc" would make every post a candidate of every NYC group)."""
    return [f"type:{t}" for t in sig.types] + [
        f"entity:{e}" for e, w in sig.entities.items() if w >= SPECIFIC_PLACE
    ]


def group_keys(group: OpenGroup, sig: IncidentSignature) -> list[str]:
    """A group's index keys after ``sig`` joined it: the types it is about (a post shares a
    type only with those; all of them while it is about none, see _score), a problem
    report's, and the specific places."""
    kinds = list(group.core or group.types)
    if PROBLEM in group.types and group.core:
        kinds.append(PROBLEM)
    return [f"type:{t}" for t in kinds] + [
        f"entity:{e}" for e, w in sig.entities.items() if w >= SPECIFIC_PLACE
    ]


def place_conflict(where: Where, group: OpenGroup) -> bool:
    """True when post and group both name known places and none in common, counting a
    place as also being in the wider places it lies in (a stop in its city); or when
    both name specific known places (a town, a stop, a road) and none in common: the
    NYC-Albany bus is not the Boston-NYC bus stuck near Worcester, though both say NYC."""
    if not where.around or not group.around:
        return False
    if not where.around & group.around:
        return True
    # Both name a town, stop, road or venue: they must share one, or one must lie in the
    # other's (a stop in its town, a team's game at its stadium).
    return where.named_specific and group.named_specific and not where.around_specific & group.around_specific


def other_route(where: Where, group: OpenGroup, weight: Callable[[str], float]) -> bool:
    """True when the post names a route endpoint the group never named while the group
    names, or lies in, one the post does not: NYC-Ithaca against NYC-Washington."""
    if not where.endpoints or all(p in group.around for p in where.endpoints):
        return False
    return any(0.0 < weight(q) < SPECIFIC_PLACE and q not in where.around for q in group.around)


def route_conflict(where: Where, group: OpenGroup, weight: Callable[[str], float]) -> bool:
    """Either conflict: places apart, or another route with an endpoint in common."""
    return place_conflict(where, group) or other_route(where, group, weight)


def endpoint_conflict(where: Where, group: OpenGroup) -> bool:
    """True when the post names a route endpoint the group never named while the group
    names some: "NYC to Boston" is not the NYC to DC bus, even if both say "NYC"."""
    new = [p for p in where.endpoints if p not in group.around]
    return bool(new) and bool(group.endpoints - where.around)


def facet_conflict(
    sig: IncidentSignature, group: OpenGroup, *, next_day: bool = False, distinctive: bool = False
) -> bool:
    """True when the post's facets disagree with what most of the group is about.

    ``later_day`` and ``weekday`` never count; ``next_day``: the post tells the group's incident the day
    after (``earlier`` does not count); ``distinctive``: it shares a distinctive local type
    with the group (a bag wet in an overflowing toilet is the toilet's incident: ``luggage``
    does not count)."""
    ignored = (
        {LATER_DAY, WEEKDAY} | ({EARLIER} if next_day else set()) | ({"luggage"} if distinctive else set())
    )
    for facet in (set(sig.facets) | set(group.facets)) - ignored:
        if (facet in sig.facets) != (group.facets[facet] * 2 > group.size):
            return True
    return False
