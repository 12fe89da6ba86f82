"""The library's value types: what goes in (:class:`Post`) and what comes out (:class:`Decision`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from socialdesk_classifier.nlp.grouping import GroupSummary

__all__ = ["CATEGORY_QUEUE", "Decision", "Post", "Queue"]

Queue = Literal["cx", "marketing", "ignore"]

#: The taxonomy fixes queue from category; "unknown" (empty/garbage text) is dismissed but kept.
CATEGORY_QUEUE: dict[str, Queue] = {
    "complaint": "cx",
    "query": "cx",
    "request": "cx",
    "praise": "cx",
    "safety": "cx",
    "legal": "cx",
    "promo": "marketing",
    "spam": "ignore",
    "other": "ignore",
    "unknown": "ignore",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: An epoch number above this is in milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
_EPOCH_MS_FROM = 1e11


def _from_epoch(value: float) -> datetime:
    """An epoch time in seconds or milliseconds (as platforms send them) as an aware datetime."""
    seconds = value / 1000 if abs(value) >= _EPOCH_MS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"created_at is out of range: {value!r}") from exc


@dataclass(frozen=True, slots=True)
class Post:
    """One social-media message as the classifier sees it.

    ``created_at`` drives grouping and trend/spike windows (time is injected, never read from
    the wall clock); a naive datetime is taken as UTC. The ``make classify`` input may give it
    as ISO-8601 text or as an epoch number in seconds or milliseconds.
    """

    id: str
    brand: str
    platform: str
    kind: str
    author_followers: int
    text: str
    created_at: datetime = _EPOCH

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, default_time: datetime | None = None) -> Post:
        """Build from a JSON object (the ``make classify`` input); raises ``ValueError``."""
        try:
            followers = int(data.get("author_followers") or 0)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"author_followers is not an integer: {data.get('author_followers')!r}") from exc
        created = data.get("created_at")
        when: datetime
        if created is None or created == "":
            when = default_time or _EPOCH
        elif isinstance(created, datetime):
            when = created
        elif (isinstance(created, int | float) and not isinstance(created, bool)) or (
            # epoch seconds (9-10 digits) or milliseconds (12-13) as text; "20280621" is
            # ISO 8601's basic date
            isinstance(created, str) and created.strip().isdigit() and 9 <= len(created.strip()) <= 13
        ):
            when = _from_epoch(float(created))
        else:
            try:
                when = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
            except ValueError as exc:
                raise ValueError(f"created_at is not an ISO-8601 time: {created!r}") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        for key in ("id", "brand"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ValueError(f"missing or empty {key!r}")
        return cls(
            id=data["id"],
            brand=str(data["brand"]).lower(),
            platform=str(data.get("platform") or "generic").lower(),
            kind=str(data.get("kind") or "comment").lower(),
            author_followers=max(0, followers),
            text=text if isinstance(text := data.get("text"), str) else "",
            created_at=when,
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """What was decided about one post, with per-field confidence and reasons.

    The one classification result, from the library to the event: the service publishes it
    as ``MessageClassified`` through :meth:`as_event_fields`. ``version`` names what
    decided (the trained model, or the service's cue-word rules).
    """

    queue: Queue
    category: str
    priority: str
    sentiment: str
    language: str
    auto_reply: str | None
    group_id: str | None
    version: str
    confidence: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    group_summary: GroupSummary | None = None

    def group_event_fields(self) -> dict[str, Any]:
        """The incident summary under the events' optional ``group_*`` names (empty without a group)."""
        s = self.group_summary
        if s is None:
            return {}
        return {
            "group_type": s.incident_type,
            "group_place": s.place,
            "group_first_seen": s.first_seen,
            "group_last_seen": s.last_seen,
            "group_size": s.size,
        }

    def as_event_fields(self) -> dict[str, Any]:
        """The ``MessageClassified`` fields this decision fills, under the event's names."""
        return {
            "queue": self.queue,
            "category": self.category,
            "priority": self.priority,
            "sentiment": self.sentiment,
            "language": self.language,
            "auto_reply": self.auto_reply,
            "group_id": self.group_id,
            "confidence": dict(self.confidence),
            "reasons": list(self.reasons),
            "classifier_version": self.version,
            **self.group_event_fields(),
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (the ``make classify`` output fields)."""
        return {
            "queue": self.queue,
            "category": self.category,
            "priority": self.priority,
            "sentiment": self.sentiment,
            "auto_reply": self.auto_reply,
            "language": self.language,
            "group": self.group_id,
            "group_summary": self.group_summary.as_dict() if self.group_summary is not None else None,
            "confidence": {k: round(v, 4) for k, v in self.confidence.items()},
            "reasons": list(self.reasons),
        }
