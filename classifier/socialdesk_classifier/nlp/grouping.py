"""Grouping posts about the same concrete incident (seed 001: answer one-to-many).

Posts about one incident come from different authors in different words and languages, with
any sentiment or category: a complaint, a safety report and a thank-you to the driver about
the same broken air conditioning on the same route that afternoon. Bag-of-words similarity
links them poorly and links unrelated posts well ("the bus was late"). What they share is an
*incident signature* (:mod:`~socialdesk_classifier.nlp.signature`): what happened (the
incident type), where (places normalised across languages and scripts) and when.

A post joins an open group of its brand when they share an incident type and

- the type is a *system* fault (ticket scanning down, double charges): wherever it is, within
  ``type_only_window_seconds`` of the group's last post;
- or they name a common place and no conflicting one (two different towns, stops or roads
  conflict even when both routes end in NYC): within ``specific_window_seconds`` when the
  common place is specific (a stop, a venue, a highway), ``type_only_window_seconds`` when it
  is only a route endpoint ("NYC") and the post names no endpoint the group never named (the
  weakest evidence, "late", needs both endpoints of the route);
- or one side names no place at all and the type is distinctive: within
  ``unplaced_window_seconds``.

A post of another kind joins through a specific place in common too, within
``cross_kind_window_seconds``, when one side is only a consequence of the other (a bus late
or held at a rest area, the heat or the fault that held it): a toilet and a fight on one bus
stay two incidents.

"Incident type" here is the type's *class* (signature): what the post reports (its types)
or merely mentions (grouping-only word families: "thanks for handling the breakdown"), so a
complaint, a safety report, a question and a thank-you about one incident compare alike.
A post with no incident class of its own (a question about the stop), or only a weak one
("late"), joins a group only through a specific place it names, never a system fault's group,
and not when it asks for something (a request) or is
about another day's trip ("Monday's bus", "next Sunday", "last week"). A post about a trip
days or weeks ago ("3 weeks ago") joins no local incident and opens none; "yesterday" and
"last night" only keep a post from joining through a type alone (riders report last night's
stranding the next morning). Every group carries its summary (type, place, first and last
seen, size) for the desk and Slack.

State is bounded: groups expire ``window_seconds`` after their last post and each brand keeps
at most ``max_groups_per_brand`` open groups (least recently active evicted first). Time
comes only from ``post.created_at``, so replays and tests are deterministic.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime

from socialdesk_classifier.nlp.departures import DEPARTURE
from socialdesk_classifier.nlp.group_state import (
    ANOTHER_DAY,
    EARLIER,
    LATER_DAY,
    LONG_AGO,
    OTHER_DAY,
    PROBLEM,
    WEEKDAY,
    GroupAssignment,
    GroupSummary,
    OpenGroup,
    Where,
    compared,
    consequence,
    endpoint_conflict,
    facet_conflict,
    group_keys,
    join_score,
    place_conflict,
    post_keys,
    problem_report,
    route_conflict,
    summarise,
    where_of,
)
from socialdesk_classifier.nlp.settings import GroupingSettings
from socialdesk_classifier.nlp.signature import SPECIFIC_PLACE, IncidentSignature, SignatureExtractor

__all__ = ["PROBLEM", "GroupAssignment", "GroupSummary", "Grouper", "IncidentSignature", "SignatureExtractor"]

#: Categories whose posts join a group only through what they say happened, not a place alone.
_ASKS = frozenset({"request", "promo"})


#: What release 2 of the layout called an open group: such snapshots still unpickle, then
#: ``STATE_VERSION`` has them discarded (domain.Engine.restore) instead of failing the start.
_Group = OpenGroup

_NOWHERE = Where(frozenset(), frozenset(), False, ())


class Grouper:
    """Stateful incident grouping with time-windowed, bounded memory.

    Usage::

        grouper = Grouper(SignatureExtractor.from_file(path), GroupingSettings())
        a = grouper.assign(brand="rally", text="no bus in Allentown", at=ts, post_id="m1")
        a.group_id  # "g-..." shared with later posts about the same incident
    """

    #: Bumped when the pickled layout changes: an older snapshot is then not restored.
    #: 4: a snapshot carries the open groups only (``__getstate__``), never the configuration.
    STATE_VERSION = 4
    #: What a snapshot carries: a restart keeps the open groups and this release's lexicon and
    #: settings (:meth:`adopt`).
    _STATE = ("state_version", "_groups", "_index")

    def __init__(self, extractor: SignatureExtractor, settings: GroupingSettings | None = None) -> None:
        self.state_version = self.STATE_VERSION
        self._extractor = extractor
        self._settings = settings or GroupingSettings()
        self._groups: dict[str, OrderedDict[str, OpenGroup]] = {}
        # brand -> "type:x" / "entity:y" -> ids of open groups holding it: a post is scored
        # only against groups it shares something with, not against every open group.
        self._index: dict[str, dict[str, set[str]]] = {}
        self._places = frozenset(extractor.place_label)
        self._class_of = extractor.type_class
        self._type_scope = {extractor.type_class[t]: sc for t, sc in extractor.type_scope.items()}
        self._type_scope[PROBLEM] = "local"
        self._undated = frozenset(extractor.type_class[t] for t in extractor.undated)
        s = self._settings
        self._longest = max(
            s.type_only_window_seconds,
            s.specific_window_seconds,
            s.unplaced_window_seconds,
            s.earlier_window_seconds,
        )

    @property
    def extractor(self) -> SignatureExtractor:
        """What reads incident types and places from a post's text."""
        return self._extractor

    def __getstate__(self) -> dict[str, object]:
        return {k: self.__dict__[k] for k in self._STATE}

    def adopt(self, restored: Grouper) -> None:
        """Take a restored snapshot's open groups; keep this instance's configuration."""
        self._groups, self._index = restored._groups, restored._index

    def __len__(self) -> int:
        return sum(len(g) for g in self._groups.values())

    def _evict(self, brand: str, now: datetime) -> OrderedDict[str, OpenGroup]:
        groups = self._groups.setdefault(brand, OrderedDict())
        horizon = self._settings.window_seconds
        # OrderedDict is kept in last-activity order: expired groups are at the front.
        index = self._index.setdefault(brand, {})

        def drop() -> None:
            _, gone = groups.popitem(last=False)
            for key in gone.keys:
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

    def _refresh(self, group: OpenGroup) -> None:
        """Recompute what candidate posts read of ``group`` after a post joined it."""
        where = where_of(group.entities, self._extractor.place_scope, self._extractor.place_weight)
        group.local_most = max(
            (n for t, n in group.types.items() if self._type_scope.get(t, "local") == "local"), default=0
        )
        group.top = max(group.types, key=lambda t: (group.types[t], t != PROBLEM, t))
        group.core = frozenset(t for t, n in group.types.items() if n * 3 >= group.size and t != PROBLEM)
        group.around, group.around_specific = where.around, where.around_specific
        group.placed = bool(where.around)  # a known place's scope holds at least itself
        group.named_specific = where.named_specific
        group.endpoints = frozenset(p for p in where.endpoints if group.entities[p] * 2 >= group.size)

    def _score(
        self,
        sig: IncidentSignature,
        where: Where,
        group: OpenGroup,
        at: datetime,
        category: str | None = None,
        incident_p: float | None = None,
    ) -> tuple[float, list[str]] | None:
        """The match score of a post against an open group, or None when it may not join."""
        s = self._settings
        age = (at - group.last_seen).total_seconds()
        if age > self._longest:
            return None
        # What the group is about: a type most of its posts (or at least a third) report, not
        # one a single member mentioned in passing; a group opened by a type-less problem
        # report at a place takes the first concrete type that comes along.
        core = group.core
        open_problem = not core and PROBLEM in group.types
        shared_types = [t for t in sig.types if t in core or (open_problem and t != PROBLEM)]
        if PROBLEM in sig.types and PROBLEM in group.types:
            shared_types.append(PROBLEM)
        # A departure time ("@7:15") in common lets a post with no incident of its own join;
        # with one, it only ranks the groups (the 9:15's no-show, not the 7:00's).
        shared_times = [e for e in sig.entities if e[0] == DEPARTURE and e in group.entities]
        shared_places = [
            e for e in sig.entities if e in group.entities and not (shared_types and e[0] == DEPARTURE)
        ]
        specific = any(sig.entities[e] >= SPECIFIC_PLACE for e in shared_places)
        specific_place = any(sig.entities[e] >= SPECIFIC_PLACE and e[0] != DEPARTURE for e in shared_places)
        if not shared_types and not specific:
            return None
        # The day after, with the incident's type and a place in common: the same incident
        # told the next morning ("the bus that hit the curb in State College last night").
        last_night = EARLIER in sig.facets and LONG_AGO not in sig.facets  # yesterday, not weeks ago
        next_day = bool(shared_types and shared_places) and last_night
        distinctive = any(
            sig.types[t] >= 1.0 for t in shared_types if t != PROBLEM and self._type_scope.get(t) == "local"
        )
        # A kind still going on (refunds not received) is one incident whatever days it names.
        undated = not self._undated.isdisjoint(shared_types)
        if not (specific_place or undated) and facet_conflict(
            sig, group, next_day=next_day, distinctive=distinctive
        ):
            return None
        if not shared_types:
            if incident_p is not None and incident_p < s.place_only_min_incident_p:
                return None  # unlikely to be about an incident at all (decision 0114)
            told_next_day = last_night and ANOTHER_DAY not in sig.facets
            # No incident of its own (a question about the stop, a thanks, a type-less problem
            # report): a specific place only.
            if (
                # a kind of its own: another incident, unless at the same stop, venue or road
                # within the hour or two one side is a consequence (a bus late or held)
                (
                    any(w >= 1.0 for t, w in sig.types.items() if t != PROBLEM)
                    and not (
                        specific_place and age <= s.cross_kind_window_seconds and consequence(sig, group)
                    )
                )
                or (open_problem and not sig.types)
                # an ask about a booking at the place ("resend my Gillette ticket") is not a report
                or (category in _ASKS and not shared_times)
                # only a place in common: not when the post is about another day's trip
                # (yesterday's or last night's is the incident told the next morning)
                or any(
                    f in sig.facets and group.facets[f] * 2 <= group.size
                    for f in (OTHER_DAY - {EARLIER} if told_next_day else OTHER_DAY)
                )
                or LATER_DAY in sig.facets
                or not specific
                # only a departure time in common: the same hour on another route is another bus
                or (not specific_place and route_conflict(where, group, self._extractor.place_weight))
                # a refund wave's places are where riders were going, not where it happens
                or group.top in self._undated
                # a system fault is reported from everywhere: where a rider stood, or a time
                # in common (one bus's), says nothing about it
                or self._type_scope.get(group.top) == "system"
                or (not specific_place and WEEKDAY in sig.facets)
                or age > (s.earlier_window_seconds if told_next_day else s.specific_window_seconds)
            ):
                return None
            found = join_score(sig, shared_types, shared_places)
            return found if found[0] >= s.min_score else None
        scope = self._type_scope
        # A system fault links wherever it is reported, through the type the group is about.
        if any(
            scope.get(t) == "system"
            and group.types[t] * 2 >= group.size
            and group.types[t] >= group.local_most
            for t in shared_types
        ):
            found = join_score(sig, shared_types, shared_places + shared_times)
            return found if age <= s.type_only_window_seconds else None
        shared_types = [t for t in shared_types if scope.get(t, "local") == "local"]
        # riders of one cancelled event waiting for refunds came from many towns
        if not shared_types or (not undated and place_conflict(where, group)):
            return None
        if LONG_AGO in sig.facets and group.facets[LONG_AGO] * 2 <= group.size and not undated:
            return None  # days or weeks ago: not today's incident here, whatever it reports
        if next_day and not endpoint_conflict(where, group):
            limit = s.earlier_window_seconds
        elif specific:
            limit = s.specific_window_seconds
        elif endpoint_conflict(where, group):
            return None
        elif shared_places or (where.around & group.around):
            # Only route endpoints in common: the weakest evidence ("late", said of every
            # trip), on either side, needs both of the route's endpoints to reach min_score.
            weak = max(min(sig.types[t], group.strength.get(t, 1.0)) for t in shared_types)
            if weak < 0.5 and weak + sum(sig.entities[e] for e in shared_places) < s.min_score:
                return None
            limit = s.type_only_window_seconds
        elif (
            group.top in shared_types
            and sig.types[group.top] >= 1.0
            and max(sig.types.values()) <= sig.types[group.top]
            and (not where.around or not group.placed)
        ):
            # A distinctive type ("broke down", not "no bus") with no place on one side: the
            # type the group is most about, and the post's strongest (a post saying two things
            # must not bridge two incidents).
            limit = s.unplaced_window_seconds
        else:
            return None
        return join_score(sig, shared_types, shared_places + shared_times) if age <= limit else None

    def summary(self, group: OpenGroup) -> GroupSummary:
        """The group's type, place, first/last seen and size."""
        return summarise(group, self._extractor.type_label, self._extractor.place_label)

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
        """Put one post into the best matching open group, or open a new one.

        ``category`` (the post's decided category, when known) lets a complaint or safety
        report that names a specific place but no known fault open a group (see PROBLEM);
        ``signature`` is the text's signature when the caller already extracted it;
        ``incident_p`` (the incident head's probability, when known) gates joins through a
        place alone (``place_only_min_incident_p``)."""
        raw = signature if signature is not None else self._extractor.extract(text)
        sig = compared(raw, self._class_of)
        if sig.empty:
            self._evict(brand, at)
            return GroupAssignment(None, 0, 0.0, ())
        if problem_report(sig, category, self._places) and not sig.facets & OTHER_DAY:
            sig = IncidentSignature({PROBLEM: 0.5}, sig.entities, sig.facets)
        groups = self._evict(brand, at)
        if sig.empty:
            return GroupAssignment(None, 0, 0.0, ())
        index = self._index[brand]
        candidate_ids: set[str] = set()
        for key in post_keys(sig):
            candidate_ids.update(index.get(key, ()))
        where = (
            where_of(sig.entities, self._extractor.place_scope, self._extractor.place_weight)
            if candidate_ids
            else _NOWHERE
        )
        best: OpenGroup | None = None
        best_rank: tuple[float, int, datetime] | None = None
        best_shared: list[str] = []
        best_score = 0.0
        for gid in sorted(candidate_ids):  # sorted: deterministic whatever the hash seed
            group = groups[gid]
            if not group.types:
                continue
            found = self._score(sig, where, group, at, category, incident_p)
            if found is None:
                continue
            rank = (found[0], group.size, group.last_seen)
            if best_rank is None or rank > best_rank:
                best, best_rank, best_shared, best_score = group, rank, found[1], found[0]
        if best is None:
            if (
                not sig.types
                or (LONG_AGO in sig.facets and self._undated.isdisjoint(sig.types))
                # a question or request about a later day's trip ("next month, is there AC?")
                or (LATER_DAY in sig.facets and category in ("query", "request"))
                or (
                    max(sig.types.values()) < 1.0
                    and not any(w >= SPECIFIC_PLACE for w in sig.entities.values())
                    and not any(e in self._places for e in sig.entities)
                )
            ):
                # Only a report of something going wrong now (not weeks ago) opens an incident, and a weak one
                # ("no bus", "cancelled") only with a place; a post that merely names the
                # place, or no place, can still join one (see above).
                return GroupAssignment(None, 0, 0.0, ())
            digest = hashlib.blake2s(
                f"{brand}|{post_id}|{at.isoformat()}|{text[:80]}".encode(), digest_size=6
            )
            best = OpenGroup(f"g-{brand}-{digest.hexdigest()}", brand, at, at)
            groups[best.group_id] = best
        best.size += 1
        best.first_seen = min(best.first_seen, at)
        best.last_seen = max(best.last_seen, at)
        best.types.update(sig.types.keys())
        for kind, weight in sig.types.items():
            best.strength[kind] = max(best.strength.get(kind, 0.0), weight)
        best.labels.update({*raw.types, *raw.mentions} or sig.types.keys())
        best.entities.update(sig.entities.keys())
        best.facets.update(sig.facets)
        self._refresh(best)
        for key in group_keys(best, sig):
            if key not in best.keys:
                best.keys.add(key)
                index.setdefault(key, set()).add(best.group_id)
        groups.move_to_end(best.group_id)
        return GroupAssignment(best.group_id, best.size, best_score, tuple(best_shared), self.summary(best))
