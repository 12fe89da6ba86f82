"""Learned joins on top of the grouping rules (decision 0110).

The rules (:mod:`~socialdesk_classifier.nlp.grouping`) join a post to an incident only
through what it says happened, where and when; about half the posts of an incident say none
of that in words the rules read ("where are the return buses?? lot K is empty"). The
:class:`IncidentLinker` keeps the rules' answer whenever they join a post to a group, and
otherwise scores the post against the most recent open incidents of its brand with a small
tree ensemble (:mod:`~socialdesk_classifier.nlp.join_model`) over
:data:`JOIN_FEATURES`: how long ago each incident was last reported and how busy it is,
places and kinds in common or in conflict, the post's category and dating, and how likely
the model's ``incident`` head finds the post (and the incident's posts) to be about an
incident at all. Above ``threshold`` the post joins the best one.

A post neither joins nor opens an incident under the rules opens a *pending* incident of its
own, which later posts may join the same way. The rules' state is never touched: a rule group
that a learned join attached to an incident is an *alias* of it, and its later members
follow it there.
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from socialdesk_classifier.nlp.group_state import (
    ANOTHER_DAY,
    EARLIER,
    LATER_DAY,
    LONG_AGO,
    PROBLEM,
    GroupAssignment,
    OpenGroup,
    compared,
    summarise,
)
from socialdesk_classifier.nlp.grouping import Grouper
from socialdesk_classifier.nlp.join_model import TreeEnsemble
from socialdesk_classifier.nlp.settings import GroupingSettings
from socialdesk_classifier.nlp.signature import SPECIFIC_PLACE, IncidentSignature, SignatureExtractor

__all__ = ["JOIN_FEATURES", "Incident", "IncidentLinker", "JoinChooser"]

_CATEGORIES = ("complaint", "safety", "query", "request", "praise", "legal", "other", "promo")
_FACETS = (EARLIER, LONG_AGO, LATER_DAY, ANOTHER_DAY)
_NEGATIVE = frozenset({"complaint", "safety", "query"})

JOIN_FEATURES = (
    "minutes_since_last",
    "posts_last_hour",
    "size",
    "specific_places_shared",
    "endpoints_shared",
    "post_placed",
    "incident_placed",
    "places_disjoint",
    "kinds_shared",
    "kinds_mismatch",
    "post_has_kind",
    "incident_negative_share",
    "open_incidents",
    "most_recent",
    *(f"facet_{f}" for f in _FACETS),
    *(f"category_{c}" for c in _CATEGORIES),
    "rules_would_open",
    "rules_found_nothing",
    "incident_pending",
    "post_incident_p",
    "incident_mean_incident_p",
)


@dataclass(slots=True)
class Incident:
    """What the linker knows of one incident: its rule-group state plus what scoring reads."""

    group: OpenGroup
    #: the last posts' times (bounded), the categories and summed incident probability
    times: list[datetime] = field(default_factory=list)
    categories: Counter[str] = field(default_factory=Counter)
    incident_p: float = 0.0
    pending: bool = False


#: Picks the incident a post joins among the candidates (most recent first) from their
#: feature rows, or None. The model's threshold in production; the labels in training.
JoinChooser = Callable[[np.ndarray, Sequence[Incident]], int | None]


class IncidentLinker:
    """The grouping rules, then learned joins; one instance per stream (see Grouper)."""

    #: Bumped when the pickled layout changes (see domain.Engine.restore).
    STATE_VERSION = Grouper.STATE_VERSION * 100 + 1
    #: What a snapshot carries: the incidents, never the join model nor the settings (a
    #: restart applies this release's, :meth:`adopt`).
    _STATE = ("state_version", "grouper", "_incidents", "_alias")

    def __init__(
        self,
        grouper: Grouper,
        model: TreeEnsemble | None,
        settings: GroupingSettings | None = None,
        *,
        window_seconds: int | None = None,
        candidates: int = 16,
        min_incident_p: float = 0.3,
        chooser: JoinChooser | None = None,
    ) -> None:
        self.state_version = self.STATE_VERSION
        self.grouper = grouper
        self._settings = settings or GroupingSettings()
        self._model = model if self._settings.learned_joins else None
        self._threshold = self._settings.learned_join_threshold
        self._window = (
            self._settings.learned_join_window_seconds if window_seconds is None else window_seconds
        )
        self._candidates = candidates
        self._min_p = min_incident_p
        self._chooser = chooser
        self._incidents: dict[str, OrderedDict[str, Incident]] = {}
        self._alias: OrderedDict[str, str] = OrderedDict()

    @property
    def extractor(self) -> SignatureExtractor:
        return self.grouper.extractor

    def __getstate__(self) -> dict[str, object]:
        return {k: self.__dict__[k] for k in self._STATE}

    def adopt(self, restored: IncidentLinker) -> None:
        """Take a restored snapshot's incidents; keep this instance's rules, model and settings."""
        self.grouper.adopt(restored.grouper)
        self._incidents, self._alias = restored._incidents, restored._alias

    @classmethod
    def from_data(cls, data_dir: Path, settings: GroupingSettings) -> IncidentLinker:
        """The rules of ``grouping.yaml`` and the join trees ``cli train`` wrote to ``join.npz``."""
        path = data_dir / "join.npz"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `python -m socialdesk_classifier.cli train`")
        rules = Grouper(SignatureExtractor.from_file(data_dir / "grouping.yaml"), settings)
        return cls(rules, TreeEnsemble.load(path), settings)

    def __len__(self) -> int:
        """Open incidents (the rules' open groups when learned joins are off)."""
        if self._model is None and self._chooser is None:
            return len(self.grouper)
        return sum(len(v) for v in self._incidents.values())

    def assign(
        self,
        *,
        brand: str,
        text: str,
        at: datetime,
        post_id: str = "",
        category: str | None = None,
        signature: IncidentSignature | None = None,
        incident_p: float | None = None,
    ) -> GroupAssignment:
        """The rules' group when they join one; else the best learned join, or a new incident.

        ``incident_p``: the model's incident head on this post; unknown (``None``), the rules'
        place-alone joins are not gated and the learned joins read it as 0."""
        known_p = incident_p
        incident_p = incident_p if incident_p is not None else 0.0
        raw = signature if signature is not None else self.grouper.extractor.extract(text)
        ruled = self.grouper.assign(
            brand=brand,
            text=text,
            at=at,
            post_id=post_id,
            category=category,
            signature=raw,
            incident_p=known_p if self._model is not None or self._chooser is not None else None,
        )
        if self._model is None and self._chooser is None:
            return ruled  # learned joins off: the rules' answer as it is
        incidents = self._evict(brand, at)
        sig = compared(raw, self.grouper.extractor.type_class)
        found: Incident | None = None
        score, shared = ruled.score, ruled.shared
        if ruled.group_id is not None and ruled.size > 1:
            found = incidents.get(self._alias.get(ruled.group_id, ruled.group_id))
        if found is None:
            candidates = self._recent(incidents, at)
            if candidates and (incident_p >= self._min_p or self._chooser is not None):
                part = self._post_part(sig, category, ruled)
                rows = np.array(
                    [
                        self._features(sig, c, at, part, incident_p, len(candidates), i == 0)
                        for i, c in enumerate(candidates)
                    ]
                )
                pick, p = self._choose(rows, candidates, self._bar(ruled, incident_p))
                if pick is not None:
                    found, score, shared = candidates[pick], p, (f"model:{p:.2f}",)
        if found is None:
            gid = ruled.group_id or self._pending_id(brand, post_id, at, text)
            self._alias.pop(gid, None)  # its incident was evicted: it is its own again
            found = Incident(OpenGroup(gid, brand, at, at), pending=ruled.group_id is None)
            incidents[gid] = found
        elif ruled.group_id is not None and ruled.size == 1:
            self._alias[ruled.group_id] = found.group.group_id
            if len(self._alias) > 4 * self._settings.max_groups_per_brand:
                self._alias.popitem(last=False)
        self._add(found, raw, sig, at, category, incident_p)
        incidents.move_to_end(found.group.group_id)
        g = found.group
        summary = summarise(g, self.grouper.extractor.type_label, self.grouper.extractor.place_label)
        return GroupAssignment(g.group_id, g.size, score, shared, summary)

    def _bar(self, ruled: GroupAssignment, incident_p: float) -> float:
        """The join probability a learned join needs: lower for a post the rules found nothing
        for that is surely about an incident (decision 0116)."""
        s = self._settings
        if ruled.group_id is None and incident_p >= s.sure_incident_p:
            return min(self._threshold, s.sure_join_threshold)
        return self._threshold

    def _choose(
        self, rows: np.ndarray, candidates: Sequence[Incident], bar: float
    ) -> tuple[int | None, float]:
        if self._chooser is not None:
            return self._chooser(rows, candidates), 1.0
        assert self._model is not None
        probs = self._model.predict(rows)
        best = int(np.argmax(probs))
        return (best, float(probs[best])) if probs[best] >= bar else (None, 0.0)

    def _recent(self, incidents: OrderedDict[str, Incident], at: datetime) -> list[Incident]:
        """The brand's most recently active incidents within the window, most recent first."""
        out: list[Incident] = []
        for inc in reversed(incidents.values()):
            age = (at - inc.group.last_seen).total_seconds()
            if age > self._window or len(out) >= self._candidates:
                break
            if age >= 0:
                out.append(inc)
        return out

    @staticmethod
    def _post_part(sig: IncidentSignature, category: str | None, ruled: GroupAssignment) -> list[float]:
        """The features that depend on the post alone (the same for every candidate)."""
        return [
            *(f in sig.facets for f in _FACETS),
            *(category == c for c in _CATEGORIES),
            ruled.group_id is not None,
            ruled.group_id is None,
        ]

    @staticmethod
    def _features(
        sig: IncidentSignature,
        inc: Incident,
        at: datetime,
        post_part: list[float],
        incident_p: float,
        n_open: int,
        most_recent: bool,
    ) -> list[float]:
        g = inc.group
        minutes = (at - g.last_seen).total_seconds() / 60
        places = g.entities
        specific = sum(w for e, w in sig.entities.items() if e in places and w >= SPECIFIC_PLACE)
        endpoints = sum(1 for e, w in sig.entities.items() if e in places and w < SPECIFIC_PLACE)
        disjoint = bool(sig.entities) and bool(places) and not any(e in places for e in sig.entities)
        kinds = [t for t in sig.types if t != PROBLEM]
        shared = sum(1 for t in kinds if g.types.get(t))
        negative = sum(n for c, n in inc.categories.items() if c in _NEGATIVE) / max(1, g.size)
        recent = sum(1 for t in inc.times if (at - t).total_seconds() <= 3600)
        return [
            minutes,
            recent,
            g.size,
            min(specific, 3.0),
            min(endpoints, 3),
            bool(sig.entities),
            bool(places),
            disjoint,
            min(shared, 3),
            bool(kinds) and bool(g.types) and not shared,  # an incident's types never hold PROBLEM
            bool(kinds),
            negative,
            n_open,
            most_recent,
            *post_part,
            inc.pending,
            incident_p,
            inc.incident_p / max(1, g.size),
        ]

    def _add(
        self,
        inc: Incident,
        raw: IncidentSignature,
        sig: IncidentSignature,
        at: datetime,
        category: str | None,
        incident_p: float,
    ) -> None:
        g = inc.group
        g.size += 1
        g.first_seen = min(g.first_seen, at)
        g.last_seen = max(g.last_seen, at)
        g.types.update(t for t in sig.types if t != PROBLEM)
        g.labels.update({*raw.types, *raw.mentions})
        g.entities.update(sig.entities.keys())
        inc.times = [*inc.times[-31:], at]
        inc.categories[category or "unknown"] += 1
        inc.incident_p += incident_p

    def _evict(self, brand: str, now: datetime) -> OrderedDict[str, Incident]:
        incidents = self._incidents.setdefault(brand, OrderedDict())
        horizon = self._settings.window_seconds
        while incidents:
            first = next(iter(incidents.values()))
            if (now - first.group.last_seen).total_seconds() <= horizon and len(
                incidents
            ) <= 2 * self._settings.max_groups_per_brand:
                break
            incidents.popitem(last=False)
        return incidents

    @staticmethod
    def _pending_id(brand: str, post_id: str, at: datetime, text: str) -> str:
        digest = hashlib.blake2s(
            f"{brand}|{post_id}|{at.isoformat()}|{text[:80]}".encode("utf-8", "replace"), digest_size=6
        )
        return f"g-{brand}-{digest.hexdigest()}"
