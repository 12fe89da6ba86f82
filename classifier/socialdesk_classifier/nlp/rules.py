"""The transparent rules layer: named cues compiled from ``data/lexicon.yaml``.

A cue is a set of regular expressions that says "this post mentions a lawyer", "this post
asks where the ticket is". Cues are cheap, explainable and editable by a brand lead without
retraining; they feed both the statistical model (as feature tokens) and the decision rules
in :mod:`socialdesk_classifier.nlp.classifier`. Why regexes and not keyword sets: social posts
need small windows ("driver ... texting ... lanes") that keyword sets cannot express.
"""

from __future__ import annotations

import re
import re._constants as sre_c  # type: ignore[import-not-found]  # stdlib's regex parser, no stubs: derives prefilters only
import re._parser as sre_parse  # type: ignore[import-not-found]  # (same)
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # C extension without stubs
import yaml

__all__ = ["CueHit", "Lexicon", "Windows", "load_lexicon"]


@dataclass(frozen=True, slots=True)
class CueHit:
    """One cue that fired, with the text that made it fire (for the agent-facing reasons)."""

    name: str
    snippet: str
    strong: bool


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    #: Lower-case strings of which at least one must occur for the regex to match; None
    #: when no such set could be derived (the regex then always runs).
    needs: frozenset[str] | None
    #: Compiled case-sensitively, to run on the lower-cased text.
    on_lower: bool = False
    #: Further necessary sets (each: one member must occur in the lower-cased text),
    #: checked with ``in`` before the regex runs.
    also: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class _Cue:
    name: str
    strong: bool
    patterns: tuple[_Pattern, ...]
    unless: re.Pattern[str] | None


_MAX_SET = 48


def _necessary(items: Any, top: list[set[str]] | None = None) -> tuple[set[str] | None, set[str] | None]:
    """(exact, necessary) literal sets of a parsed regex sequence; ``top`` (when given)
    receives the sequence's other necessary sets, best first.

    ``exact``: every string the sequence can match, when it is a small finite set of
    literals. ``necessary``: a set such that any match contains at least one member.
    Why: Python's ``re`` has no multi-literal prefilter, and ~250 patterns with ``.{0,60}``
    windows cost ~0.6 ms a post; checking literals with ``in`` first cuts that ~10x.
    """
    candidates: list[set[str]] = []
    run: set[str] | None = {""}
    whole = True

    def close() -> None:
        nonlocal run
        if run and any(run):
            candidates.append(run)
        run = None

    for op, av in items:
        if op is sre_c.LITERAL:
            run = {s + chr(av).lower() for s in run} if run is not None else {chr(av).lower()}
        elif op is sre_c.AT:
            continue  # zero-width: keeps literals adjacent
        elif op is sre_c.IN and all(o is sre_c.LITERAL for o, _ in av) and len(av) <= 4:
            chars = {chr(v).lower() for _, v in av}
            run = {s + c for s in (run or {""}) for c in chars}
        elif op is sre_c.SUBPATTERN or op is sre_c.BRANCH:
            if op is sre_c.SUBPATTERN:
                exact, nec = _necessary(av[-1])
            else:
                parts = [_necessary(alt) for alt in av[1]]
                exacts = [e for e, _ in parts]
                exact = None
                if all(e is not None for e in exacts):
                    exact = {s for e in exacts if e is not None for s in e}
                necs = [n for _, n in parts]
                nec = None
                if all(necs):
                    nec = {s for n in necs if n for s in n}
            if exact is not None and run is not None and len(run) * len(exact) <= _MAX_SET:
                run = {a + b for a in run for b in exact}
            else:
                whole = False
                close()
                if nec:
                    candidates.append(nec)
                if exact is not None and len(exact) <= _MAX_SET:
                    run = set(exact)
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT) and av[0] >= 1:
            whole = False
            close()
            _, inner_nec = _necessary(av[2])
            if inner_nec:
                candidates.append(inner_nec)
        else:
            whole = False
            close()
        if run is not None and len(run) > _MAX_SET:
            whole = False
            close()
    exact_out = run if whole and run is not None else None
    close()
    good = [c for c in candidates if c and all(c)]
    if not good:
        return exact_out, None
    good.sort(key=lambda c: (min(len(s) for s in c), -len(c)), reverse=True)
    if top is not None:
        top.extend(good[1:])
    return exact_out, good[0]


#: At most this many further necessary sets a pattern (see ``_Pattern.also``).
_ALSO = 3


#: Upper-case letters of a pattern outside escapes ("\\S", "\\W", ...), or an upper-case escape.
_CASED = re.compile(r"(?<!\\)[A-Z]|\\[A-Z]")


def _compile(pattern: str) -> _Pattern:
    # A pattern with no upper-case letter and no upper-case escape matches the lower-cased
    # text case-sensitively exactly as it matches the text ignoring case, ~25% faster.
    on_lower = _CASED.search(pattern) is None
    regex = re.compile(pattern, 0 if on_lower else re.IGNORECASE)
    others: list[set[str]] = []
    try:
        _, needs = _necessary(sre_parse.parse(pattern, re.IGNORECASE), others)
    except Exception:  # the prefilter is an optimisation; never let it reject a pattern
        needs, others = None, []
    also: list[tuple[str, ...]] = []
    for other in others:
        group = tuple(sorted(other))
        if needs and other != needs and group not in also and min(len(k) for k in group) >= 2:
            also.append(group)
    return _Pattern(regex, frozenset(needs) if needs else None, on_lower, tuple(also[:_ALSO]))


@dataclass(frozen=True, slots=True)
class Windows:
    """A text and its lower-case form: what every lexicon's prefilter reads, computed once a
    post."""

    text: str
    lower: str

    @classmethod
    def of(cls, text: str) -> Windows:
        """The windows of ``text``."""
        return cls(text, text.lower())


class Lexicon:
    """Compiled cues. Build with :func:`load_lexicon`.

    Each pattern carries a set of literals derived from it (see :func:`_necessary`); a post
    first collects which literals it contains, and only the patterns whose literals occur are
    run. The outcome is identical to running every pattern, at a fraction of the cost.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        cues_spec = spec.get("cues")
        if not isinstance(cues_spec, Mapping) or not cues_spec:
            raise ValueError("lexicon: 'cues' must be a non-empty mapping")
        cues: list[_Cue] = []
        for name, body in cues_spec.items():
            patterns: list[str] = []
            for lang, pats in (body.get("patterns") or {}).items():
                if not isinstance(pats, list):
                    raise ValueError(f"lexicon: cue {name!r} language {lang!r} must list patterns")
                patterns.extend(str(p) for p in pats)
            if not patterns:
                raise ValueError(f"lexicon: cue {name!r} has no patterns")
            try:
                compiled = tuple(_compile(p) for p in patterns)
                unless_list = [str(p) for p in body.get("unless") or []]
                unless = (
                    re.compile("|".join(f"(?:{p})" for p in unless_list), re.IGNORECASE)
                    if unless_list
                    else None
                )
            except re.error as exc:
                raise ValueError(f"lexicon: cue {name!r} has a bad pattern: {exc}") from exc
            cues.append(_Cue(str(name), body.get("strength") == "strong", compiled, unless))
        self._cues = tuple(cues)
        self.names = frozenset(c.name for c in cues)
        # Every literal some pattern needs, numbered; one Aho-Corasick automaton finds
        # which of them a post contains in a single C-level pass.
        literal_ids: dict[str, int] = {}

        def ids_of(literals: Any) -> frozenset[int]:
            return frozenset(literal_ids.setdefault(lit, len(literal_ids)) for lit in literals)

        flat: list[tuple[int, _Cue, tuple[frozenset[int], ...]]] = []
        enables: dict[int, list[int]] = {}
        always: list[int] = []
        for ci, cue in enumerate(cues):
            for pat in cue.patterns:
                if pat.needs is None:
                    always.append(len(flat))
                else:
                    for lid in ids_of(pat.needs):
                        enables.setdefault(lid, []).append(len(flat))
                flat.append((ci, cue, tuple(ids_of(group) for group in pat.also)))
        self._patterns = tuple(pat for cue in cues for pat in cue.patterns)
        self._flat = tuple(flat)
        self._enables = {lit: tuple(ids) for lit, ids in enables.items()}
        self._always = frozenset(always)
        self._automaton = ahocorasick.Automaton()
        for lit, lid in literal_ids.items():
            self._automaton.add_word(lit, lid)
        self._automaton.make_automaton()

    def match(self, text: str, *, windows: Windows | None = None) -> dict[str, CueHit]:
        """Return the cues that fire on ``text`` (already cleaned), keyed by cue name.

        ``windows``: :func:`windows` of ``text`` when the caller already has them (several
        lexicons read one post)."""
        hits: dict[str, CueHit] = {}
        if windows is None or windows.text is not text:
            windows = Windows.of(text)
        lower = windows.lower
        found = {lid for _, lid in self._automaton.iter(lower)} if lower else set()
        candidates: set[int] = set(self._always)
        enables = self._enables
        for lid in found:
            ids = enables.get(lid)
            if ids is not None:
                candidates.update(ids)
        done: set[int] = set()
        same_len = len(lower) == len(text)
        flat = self._flat
        patterns = self._patterns
        for pid in sorted(candidates):
            ci, cue, also = flat[pid]
            if ci in done:
                continue
            if also and not all(not group.isdisjoint(found) for group in also):
                continue
            pat = patterns[pid]
            m = pat.regex.search(lower if pat.on_lower else text)
            if m is None:
                continue
            done.add(ci)
            if cue.unless is not None and cue.unless.search(text):
                continue
            # The snippet in the post's own case when lower-casing kept every position.
            snippet = text[m.start() : m.end()] if pat.on_lower and same_len else m.group(0)
            hits[cue.name] = CueHit(cue.name, snippet[:60], cue.strong)
        return hits


def load_lexicon(path: Path, *, extra_cues: Mapping[str, Mapping[str, list[str]]] | None = None) -> Lexicon:
    """Read and compile a lexicon YAML file; raises ``ValueError`` naming the bad cue.

    ``extra_cues`` adds a deployment's own patterns (per language) to cues the lexicon
    already defines, so a brand's new campaign hashtag or a local place name works without
    retraining; an unknown cue name is refused (its rules would never be consulted).
    """
    with path.open(encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    if not isinstance(spec, Mapping):
        raise ValueError(f"lexicon {path}: top level must be a mapping")
    if extra_cues:
        cues = {name: dict(body) for name, body in spec["cues"].items()}
        for name, by_lang in extra_cues.items():
            if name not in cues:
                raise ValueError(
                    f"classifier extra_cues: unknown cue {name!r} (known: {', '.join(sorted(cues))})"
                )
            patterns = {lang: list(p) for lang, p in (cues[name].get("patterns") or {}).items()}
            for lang, extra in by_lang.items():
                patterns.setdefault(lang, []).extend(extra)
            cues[name]["patterns"] = patterns
        spec = {**spec, "cues": cues}
    return Lexicon(spec)
