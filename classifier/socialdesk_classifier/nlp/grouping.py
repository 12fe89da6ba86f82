"""Grouping posts about the same concrete incident (seed 001: answer one-to-many).

Posts about one incident come from different authors in different words and languages
("no bus in Allentown", "nunca llegó ... Allentown", "#JuniperVale NO BUS"). Bag-of-words
similarity links them poorly (short texts share few words) and links unrelated posts well
("the bus was late"). What they do share is an *incident signature*: the brand, the kind of
failure (double charge, breakdown, overbooking, data exposure ...) and the concrete entities
(a town, a venue, a highway, an event name). See ``data/grouping.yaml`` for the weights.

State is bounded: groups expire ``window_seconds`` after their last post and each brand keeps
at most ``max_groups_per_brand`` open groups (least recently active evicted first). Time
comes only from ``post.created_at``, so replays and tests are deterministic.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from socialdesk_classifier.nlp.rules import Lexicon
from socialdesk_classifier.nlp.settings import GroupingSettings

__all__ = ["GroupAssignment", "Grouper", "IncidentSignature", "SignatureExtractor"]

_CAP_PHRASE = re.compile(r"(?<![\w@#])([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,2})")
_HASHTAG = re.compile(r"#(\w{3,})")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_GAZ_WORD = re.compile(r"[^\W_]+(?:[-.'’][^\W_]+)*", re.UNICODE)
_UNKNOWN_ENTITY_WEIGHT = 0.7


@dataclass(frozen=True, slots=True)
class IncidentSignature:
    """What a post says happened, and where."""

    types: dict[str, float]
    entities: dict[str, float]
    facets: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        """Nothing incident-like: such a post starts no group."""
        return not self.types and not self.entities


class SignatureExtractor:
    """Compiled incident-type patterns and the entity gazetteer from ``grouping.yaml``."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        # Incident types reuse the rules engine (literal prefilter, one regex per pattern).
        types_spec = spec.get("incident_types") or {}
        self._types = Lexicon(
            {
                "cues": {
                    name: {"patterns": {"all": list(body["patterns"])}} for name, body in types_spec.items()
                }
            }
        )
        self._type_weight = {str(name): float(body.get("weight", 1.0)) for name, body in types_spec.items()}
        aliases: dict[str, tuple[str, float]] = {}
        for key, body in (spec.get("places") or {}).items():
            for alias in body["aliases"]:
                aliases[str(alias).lower().strip(".")] = (str(key), float(body.get("weight", 1.0)))
        self._aliases = aliases
        self._max_alias_words = max((len(a.split()) for a in aliases), default=1)
        self._stop = frozenset(str(w).lower() for w in spec.get("not_entities") or [])
        self._facets = [
            (str(name), re.compile("|".join(f"(?:{p})" for p in pats), re.IGNORECASE))
            for name, pats in (spec.get("facets") or {}).items()
        ]

    def _gazetteer(self, lower: str) -> tuple[dict[str, float], set[str]]:
        """Places named in the text: word n-gram lookups (a regex alternation of ~200
        aliases with boundaries costs ~0.1 ms a post; this costs ~10 us)."""
        words = _GAZ_WORD.findall(lower)
        found: dict[str, float] = {}
        covered: set[str] = set()
        aliases = self._aliases
        for n in range(1, self._max_alias_words + 1):
            for i in range(len(words) - n + 1):
                gram = " ".join(words[i : i + n])
                hit = aliases.get(gram)
                if hit is not None:
                    found[hit[0]] = hit[1]
                    covered.add(gram)
        return found, covered

    @classmethod
    def from_file(cls, path: Path) -> SignatureExtractor:
        """Load ``grouping.yaml``."""
        with path.open(encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh))

    def extract(self, text: str) -> IncidentSignature:
        """Incident types and entities named in ``text`` (cleaned)."""
        types = {name: self._type_weight[name] for name in self._types.match(text)}
        entities, covered = self._gazetteer(text.lower())
        for m in _CAP_PHRASE.finditer(text):
            words = [
                w
                for w in m.group(1).split()
                if w.lower().strip("'’") not in self._stop and w.lower() not in covered
            ]
            if not words:
                continue
            phrase = " ".join(words).lower()
            if phrase in covered or phrase in self._aliases or len(phrase) < 3:
                continue
            if m.start() == 0 or text[m.start() - 2 : m.start()].strip() in {".", "!", "?"}:
                continue  # sentence-initial capital says nothing about a name
            entities.setdefault(phrase.replace(" ", ""), _UNKNOWN_ENTITY_WEIGHT)
        for m in _HASHTAG.finditer(text):
            tag = m.group(1)
            spaced = _CAMEL.sub(" ", tag).lower()
            if spaced in self._aliases:
                key, weight = self._aliases[spaced]
                entities[key] = weight
            elif tag.lower() not in self._stop:
                entities.setdefault(tag.lower(), _UNKNOWN_ENTITY_WEIGHT)
        facets = frozenset(name for name, pat in self._facets if pat.search(text))
        return IncidentSignature(types, entities, facets)


_SPECIFIC_TYPE = 1.0
_SPECIFIC_ENTITY = 0.6


def _keys(types: Mapping[str, float], entities: Mapping[str, float]) -> list[str]:
    """Index keys: only the specific items, since a join needs one shared specific item.
    Indexing "nyc" (weight 0.3) would make every post a candidate of every NYC group."""
    return [f"type:{t}" for t, w in types.items() if w >= _SPECIFIC_TYPE] + [
        f"entity:{e}" for e, w in entities.items() if w >= _SPECIFIC_ENTITY
    ]


@dataclass(slots=True)
class _Group:
    group_id: str
    brand: str
    first_seen: datetime
    last_seen: datetime
    size: int = 0
    types: Counter[str] = field(default_factory=Counter)
    entities: Counter[str] = field(default_factory=Counter)
    facets: Counter[str] = field(default_factory=Counter)
    type_weights: dict[str, float] = field(default_factory=dict)
    entity_weights: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroupAssignment:
    """Where a post went: its group id (or None), the group's size, and why."""

    group_id: str | None
    size: int
    score: float
    shared: tuple[str, ...]


class Grouper:
    """Stateful incident grouping with time-windowed, bounded memory.

    Usage::

        grouper = Grouper(SignatureExtractor.from_file(path), GroupingSettings())
        a = grouper.assign(brand="rally", text="no bus in Allentown", at=ts, post_id="m1")
        a.group_id  # "g-..." shared with later posts about the same incident
    """

    def __init__(self, extractor: SignatureExtractor, settings: GroupingSettings | None = None) -> None:
        self._extractor = extractor
        self._settings = settings or GroupingSettings()
        self._groups: dict[str, OrderedDict[str, _Group]] = {}
        # brand -> "type:x" / "entity:y" -> ids of open groups holding it: a post is scored
        # only against groups it shares something with, not against every open group.
        self._index: dict[str, dict[str, set[str]]] = {}

    def __len__(self) -> int:
        return sum(len(g) for g in self._groups.values())

    def _evict(self, brand: str, now: datetime) -> OrderedDict[str, _Group]:
        groups = self._groups.setdefault(brand, OrderedDict())
        horizon = self._settings.window_seconds
        # OrderedDict is kept in last-activity order: expired groups are at the front.
        index = self._index.setdefault(brand, {})

        def drop() -> None:
            _, gone = groups.popitem(last=False)
            for key in _keys(gone.type_weights, gone.entity_weights):
                ids = index.get(key)
                if ids is not None:
                    ids.discard(gone.group_id)
                    if not ids:
                        del index[key]

        while groups:
            first = next(iter(groups.values()))
            if (now - first.last_seen).total_seconds() <= horizon:
                break
            drop()
        while len(groups) > self._settings.max_groups_per_brand:
            drop()
        return groups

    def _score(self, sig: IncidentSignature, group: _Group, at: datetime) -> tuple[float, bool, list[str]]:
        score = 0.0
        specific = False
        shared: list[str] = []
        for name, weight in sig.types.items():
            if name in group.types:
                score += weight
                shared.append(f"type:{name}")
                specific = specific or weight >= _SPECIFIC_TYPE
        entity_specific = False
        for name, weight in sig.entities.items():
            if name in group.entities:
                score += weight
                shared.append(f"entity:{name}")
                entity_specific = entity_specific or weight >= _SPECIFIC_ENTITY
        if not entity_specific and (
            self._facet_conflict(sig, group)
            or (at - group.last_seen).total_seconds() > self._settings.type_only_window_seconds
        ):
            return 0.0, False, []
        return score, specific or entity_specific, shared

    @staticmethod
    def _facet_conflict(sig: IncidentSignature, group: _Group) -> bool:
        """True when the post's facets disagree with what most of the group is about."""
        for facet in set(sig.facets) | set(group.facets):
            in_post = facet in sig.facets
            in_group = group.facets[facet] * 2 > group.size
            if in_post != in_group:
                return True
        return False

    def assign(self, *, brand: str, text: str, at: datetime, post_id: str = "") -> GroupAssignment:
        """Put one post into the best matching open group, or open a new one."""
        sig = self._extractor.extract(text)
        groups = self._evict(brand, at)
        if sig.empty:
            return GroupAssignment(None, 0, 0.0, ())
        best: _Group | None = None
        best_score = 0.0
        best_shared: list[str] = []
        index = self._index[brand]
        candidate_ids: set[str] = set()
        for key in _keys(sig.types, sig.entities):
            candidate_ids.update(index.get(key, ()))
        best_size = 0
        for gid in sorted(candidate_ids):  # sorted: deterministic whatever the hash seed
            group = groups[gid]
            if not sig.types and not group.types:
                continue  # two mentions of the same venue are not an incident
            score, specific, shared = self._score(sig, group, at)
            if (
                specific
                and score >= self._settings.min_score
                and (score, group.size) > (best_score, best_size)
            ):
                best, best_score, best_shared, best_size = group, score, shared, group.size
        if best is None:
            if not sig.types:
                # Only a post that reports something going wrong opens an incident; a post
                # that merely names the place can still join one (see above).
                return GroupAssignment(None, 0, 0.0, ())
            digest = hashlib.blake2s(
                f"{brand}|{post_id}|{at.isoformat()}|{text[:80]}".encode(), digest_size=6
            )
            best = _Group(f"g-{brand}-{digest.hexdigest()}", brand, at, at)
            groups[best.group_id] = best
        best.size += 1
        best.last_seen = max(best.last_seen, at)
        best.types.update(sig.types)
        best.entities.update(sig.entities)
        best.facets.update(sig.facets)
        best.type_weights.update(sig.types)
        best.entity_weights.update(sig.entities)
        for key in _keys(sig.types, sig.entities):
            index.setdefault(key, set()).add(best.group_id)
        groups.move_to_end(best.group_id)
        return GroupAssignment(best.group_id, best.size, best_score, tuple(best_shared))
