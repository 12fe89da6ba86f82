"""The records grouping keeps and hands out: an open group's state, a post's assignment and
the summary the desk and Slack show (see :mod:`~socialdesk_classifier.nlp.grouping`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["GroupAssignment", "GroupSummary", "OpenGroup"]


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
