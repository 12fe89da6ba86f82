"""What a post says happened, and where: the incident signature grouping compares.

Read from ``data/grouping.yaml``: incident types (regular expressions in every language the
classifier detects, each with a *scope*), places (canonical keys with aliases in several
languages and scripts) and facets. A type's scope says whether the place matters:

- ``local``: one bus, one stop, one road (a no-show, a breakdown, broken AC): posts must
  agree on where (or name no place at all) to be the same incident;
- ``system``: a fault of a shared system (ticket scanning, checkout charging twice): one
  incident wherever the posts come from.

Places with a weight below ``SPECIFIC_PLACE`` are route endpoints most trips name ("NYC");
the rest (a stop, a venue, a highway, a town only an incident makes people name) are
specific. Aliases in scripts without spaces (Chinese, Japanese) are found by substring;
the others by word n-grams, which is cheap (~10 us a post); roads, numbered streets and
unknown names are picked up by :mod:`~socialdesk_classifier.nlp.places`.

Grouping reads more than the incident *types* (which also feed category and priority, so
they stay strict: something going wrong now). ``word_families`` are grouping-only patterns
for what happened, in the words any post about it uses whatever its tense, sentiment or
category ("thanks for handling the breakdown", "was the smoke dangerous?"): they land in
``IncidentSignature.mentions``. Each type and family has a *class* (default: its own name):
posts whose types differ but share a class (a no-show and a cancelled trip; smoke and a
breakdown) describe one incident from different sides, so grouping compares classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from socialdesk_classifier.nlp.departures import departure_times
from socialdesk_classifier.nlp.places import UNKNOWN_PLACE_WEIGHT, capitalised_names, numbered_places
from socialdesk_classifier.nlp.rules import Lexicon, Windows

__all__ = ["SPECIFIC_PLACE", "IncidentSignature", "SignatureExtractor"]

SPECIFIC_PLACE = 0.6

_HASHTAG = re.compile(r"#(\w{3,})")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
#: A word of a spaced script: CJK runs are not words ("collegetownのバス停" holds "collegetown").
_GAZ_WORD = re.compile(
    r"[^\W_\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+(?:[-.'’][^\W_\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+)*"
)
_ELIDED = re.compile(r"^(?:l|d|qu|j|s|n|dell|all|dall|nell|sull)['’](?=\w)")
_NO_SPACE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_UNKNOWN_ENTITY_WEIGHT = UNKNOWN_PLACE_WEIGHT
#: Lexicon names of grouping-only word families carry this prefix (one prefiltered pass
#: reads types and families together).
_FAMILY = "~"
#: ... and facets this one (same pass).
_FACET = "@"
#: The facet that dates a purchase ("bought it 3 weeks ago"): it cancels the post's dating.
_PURCHASE = "purchase_time"
#: A promo or voucher code as riders quote it ("LEAF15", "MOVEIN10": capitals, then digits):
#: posts quoting one code are about one promo. Road names ("US1", "NJ3") are not codes.
_CODE = re.compile(
    r"(?<![A-Za-z0-9_-])(?!(?:US|SR|RT|RTE|HWY|NY|NJ|PA|CT|MA|VT|DC|CR|ROUTE)\d)[A-Z]{2,10}\d{1,4}(?![A-Za-z0-9_-])"
)
#: What riders add to an event's name or leave off ("Harvest Moon Fest", "#HarvestMoon"):
#: an unknown name is keyed without it, so both spellings name one event.
_EVENT_SUFFIX = re.compile(r"(?<=\w{4})(?:musicfestival|festival|fest|concert|show|tour)$")
#: Facets that date a post's trip to an earlier day.
_DATED = frozenset({"earlier", "long_ago", "another_day"})


@dataclass(frozen=True, slots=True)
class IncidentSignature:
    """Incident types (name -> weight), places/entities (key -> weight), facets, and the
    grouping-only word families the text mentions (name -> weight)."""

    types: dict[str, float]
    entities: dict[str, float]
    facets: frozenset[str] = frozenset()
    mentions: dict[str, float] = field(default_factory=dict)
    #: clock times of the trip ("@7:15", see :mod:`~socialdesk_classifier.nlp.departures`)
    departures: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        """Nothing incident-like: such a post starts no group."""
        return not self.types and not self.entities


class SignatureExtractor:
    """Compiled incident-type patterns and the place gazetteer from ``grouping.yaml``."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        types_spec = dict(spec.get("incident_types") or {})
        families = dict(spec.get("word_families") or {})
        # A family may extend a type (its patterns are then grouping-only) or be new.
        meta = {**{n: b for n, b in families.items() if n not in types_spec}, **types_spec}
        # Types and families reuse the rules engine (literal prefilter, one regex per pattern).
        cues = {name: {"patterns": {"all": list(body["patterns"])}} for name, body in types_spec.items()}
        cues |= {
            _FAMILY + name: {"patterns": {"all": list(body["patterns"])}} for name, body in families.items()
        }
        # Facets too: the prefilter skips their long alternations on most posts (~50 us a post
        # as one case-insensitive regex each).
        cues |= {
            _FACET + str(name): {"patterns": {"all": list(pats)}}
            for name, pats in (spec.get("facets") or {}).items()
        }
        self._types = Lexicon({"cues": cues})
        self.type_weight = {str(name): float(body.get("weight", 1.0)) for name, body in meta.items()}
        self.type_scope = {str(name): str(body.get("scope", "local")) for name, body in meta.items()}
        self.type_label = {str(name): str(body.get("label", name)) for name, body in meta.items()}
        #: type -> the class grouping compares (types of one class describe one incident)
        self.type_class = {str(name): str(body.get("class", name)) for name, body in meta.items()}
        #: kinds reported as still going on whatever day the post names ("the refund for the
        #: trip cancelled on Sept 19 never came"): grouping does not date them (see Grouper)
        self.undated = frozenset(str(name) for name, body in meta.items() if body.get("undated"))
        #: grouping-only families priority reads too: riders stranded, or a trip under way in
        #: trouble ("the bus left early", "rain coming through the roof")
        self.priority_role = {str(n): str(b["priority"]) for n, b in meta.items() if b.get("priority")}
        if not set(self.priority_role.values()) <= {"stranding", "on_board", "on_board_now"}:
            raise ValueError(
                f"grouping.yaml: priority must be stranding, on_board or on_board_now: {self.priority_role}"
            )
        #: kind -> kinds (or classes) it overrides when both are read: "promo code invalid" is
        #: not a ticket refused at boarding; a refund still missing for a cancelled trip is not
        #: a rider stranded by the cancellation
        self.overrides = {
            str(name): frozenset(map(str, body["overrides"]))
            for name, body in meta.items()
            if body.get("overrides")
        }
        bad = {n: s for n, s in self.type_scope.items() if s not in ("local", "system")}
        if bad:
            raise ValueError(f"grouping.yaml: unknown incident type scope(s) {bad}: use local or system")
        mixed = {
            c
            for c in self.type_class.values()
            if len({self.type_scope[t] for t, k in self.type_class.items() if k == c}) > 1
        }
        if mixed:
            raise ValueError(f"grouping.yaml: class(es) {sorted(mixed)} mix local and system types")
        aliases: dict[str, tuple[str, float]] = {}
        spaced_out: list[tuple[str, str, float]] = []
        self.place_label: dict[str, str] = {}
        #: place -> itself and the wider places it lies in (a stop in its city, a resort in its state)
        self.place_scope: dict[str, frozenset[str]] = {}
        for key, body in (spec.get("places") or {}).items():
            self.place_label[str(key)] = str(body.get("label") or str(key).replace("_", " ").title())
            self.place_scope[str(key)] = frozenset({str(key), *(str(p) for p in body.get("in") or [])})
            for alias in body["aliases"]:
                text = str(alias).lower().strip(".")
                entry = (str(key), float(body.get("weight", 1.0)))
                if _NO_SPACE_SCRIPT.search(text):
                    spaced_out.append((text, *entry))
                else:
                    aliases[text] = entry
        self._aliases = aliases
        self._place_weight = {key: w for key, w in aliases.values()} | {k: w for _, k, w in spaced_out}
        unknown = {p for scope in self.place_scope.values() for p in scope} - set(self.place_scope)
        if unknown:
            raise ValueError(f"grouping.yaml: `in` names unknown place(s) {sorted(unknown)}")
        #: CJK aliases by their first character
        self._cjk: dict[str, list[tuple[str, str, float]]] = {}
        for cjk_entry in spaced_out:
            self._cjk.setdefault(cjk_entry[0][0], []).append(cjk_entry)
        self._max_alias_words = max((len(a.split()) for a in aliases), default=1)
        #: first words of the aliases of several words ("new" of "new york")
        self._starts = frozenset(a.split()[0] for a in aliases if " " in a)
        self._stop = frozenset(str(w).lower() for w in spec.get("not_entities") or [])

    def place_weight(self, key: str) -> float:
        """How specific a known place is (0 for an unknown key)."""
        return self._place_weight.get(key, 0.0)

    @classmethod
    def from_file(cls, path: Path) -> SignatureExtractor:
        """Load ``grouping.yaml``."""
        with path.open(encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh))

    def _gazetteer(self, lower: str) -> tuple[dict[str, float], set[str]]:
        """Places named in the text: word n-gram lookups plus substrings for CJK aliases."""
        words = _GAZ_WORD.findall(lower)
        if "'" in lower or "’" in lower:
            # French and Italian elide an article onto a name ("l'US Open", "d'Ithaca", "all'aeroporto").
            words = [_ELIDED.sub("", w) for w in words]
        found: dict[str, float] = {}
        covered: set[str] = set()
        aliases = self._aliases
        starts = self._starts
        longest = self._max_alias_words
        for i, word in enumerate(words):
            hit = aliases.get(word)
            if hit is not None:
                found[hit[0]] = max(found.get(hit[0], 0.0), hit[1])
                covered.add(word)
            if word not in starts:
                continue  # no alias of several words starts here: skip the joins
            for n in range(2, min(longest, len(words) - i) + 1):
                gram = " ".join(words[i : i + n])
                hit = aliases.get(gram)
                if hit is not None:
                    found[hit[0]] = max(found.get(hit[0], 0.0), hit[1])
                    covered.add(gram)
        for word in words:
            if "-" in word and word not in aliases:  # "nyc-dc", "ny-dc": a route written as one word
                for part in word.split("-"):
                    hit = aliases.get(part)
                    if hit is not None:
                        found[hit[0]] = max(found.get(hit[0], 0.0), hit[1])
                        covered.add(part)
        if self._cjk and _NO_SPACE_SCRIPT.search(lower):
            by_char = self._cjk
            # Only the aliases whose first character the text holds (~260 aliases otherwise).
            for alias, key, weight in (a for ch in set(lower) for a in by_char.get(ch, ())):
                if alias in lower:
                    found[key] = max(found.get(key, 0.0), weight)
        return found, covered

    def reported(self, sig: IncidentSignature) -> frozenset[str]:
        """The incident types a post reports, with the families priority reads."""
        return frozenset(sig.types).union(m for m in sig.mentions if m in self.priority_role)

    def extract(
        self, text: str, *, windows: Windows | None = None, language: str | None = None
    ) -> IncidentSignature:
        """Incident types and entities named in ``text`` (cleaned); ``windows`` as in
        :meth:`Lexicon.match`; ``language``: the detected language, when known."""
        types: dict[str, float] = {}
        mentions: dict[str, float] = {}
        facets: set[str] = set()
        if windows is None or windows.text is not text:
            windows = Windows.of(text)
        for name in self._types.match(text, windows=windows):
            if name[0] == _FAMILY:
                mentions[name[1:]] = self.type_weight[name[1:]]
            elif name[0] == _FACET:
                facets.add(name[1:])
            else:
                types[name] = self.type_weight[name]
        if _PURCHASE in facets:  # "I paid yesterday": when the ticket was bought, not the trip
            facets -= {_PURCHASE, "earlier", "long_ago"}
        for name in [n for n in self.overrides if n in mentions or n in types]:
            if name in self.undated and not facets & _DATED:
                continue  # a refund for a trip cancelled today: that cancellation's incident too
            gone = self.overrides[name]  # kinds or classes of kinds
            for kinds in (types, mentions):
                for kind in [k for k in kinds if k in gone or self.type_class[k] in gone]:
                    del kinds[kind]
        lower = windows.lower
        entities, covered = self._gazetteer(lower)
        numbered, words_covered = numbered_places(lower, self._alias_key)
        for key, weight in numbered.items():
            entities[key] = max(entities.get(key, 0.0), weight)
        words_covered.update(w for gram in covered for w in gram.split())
        for name in capitalised_names(
            text,
            covered=covered,
            words_covered=words_covered,
            is_alias=self._aliases.__contains__,
            stop=self._stop,
            language=language,
        ):
            entities.setdefault(_EVENT_SUFFIX.sub("", name), _UNKNOWN_ENTITY_WEIGHT)
        for m in _HASHTAG.finditer(text):
            tag = m.group(1)
            spaced = _CAMEL.sub(" ", tag).lower()
            if spaced in self._aliases:
                key, weight = self._aliases[spaced]
                entities[key] = weight
            elif tag.lower() not in self._stop:
                entities.setdefault(_EVENT_SUFFIX.sub("", tag.lower()), _UNKNOWN_ENTITY_WEIGHT)
        for code in _CODE.findall(text):
            entities[code.lower()] = 1.0
        return IncidentSignature(types, entities, frozenset(facets), mentions, departure_times(lower))

    def _alias_key(self, alias: str) -> tuple[str, float] | None:
        return self._aliases.get(alias)
