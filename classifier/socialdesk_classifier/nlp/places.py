"""Places a post names that no gazetteer lists: numbered roads and streets, and names.

The gazetteer in ``data/grouping.yaml`` knows the brands' region in several languages and
scripts; this module picks up what it cannot list, the same way in every language:

- highways by number ("I-81", "Route 17", "on 95", "la I-81", "81号公路", "国道17号"): one key
  per number, the gazetteer's own key when it lists that interstate;
- numbered streets, the way stops are named ("30th Street Station", "30th St", "calle 34",
  "34e rue"): one key per number;
- capitalised names mid-sentence ("Sheetz", "Wawa on Route 9"), minus words that are not
  places (``not_entities``) and the rest of a place already found ("Springs" of "Saratoga
  Springs", "Station" of "30th Street Station").
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["UNKNOWN_PLACE_WEIGHT", "capitalised_names", "numbered_places"]

#: An unknown capitalised name: specific (a town or a shop only an incident makes people name).
UNKNOWN_PLACE_WEIGHT = 0.7

# Each number is read in its context (a few characters either side) with anchored patterns:
# ~1 us a number, where scanning the whole text with the alternations cost ~10 us a post.
_NUMBER = re.compile(r"(?<!\d)\d{1,3}(?!\d)")
_ROAD_BEFORE = re.compile(
    r"(?:\b(?:i-?|interstate |route |rt\.? ?|rte\.? ?|highway |hwy\.? ?|(?:us|ny|nj|pa|sr)-|ruta |rota "
    r"|autoroute |carretera |rodovia |autopista |jalan tol )|国道\s*|州間高速(?:道路)?\s*)$"
)
_ON_BEFORE = re.compile(r"\bon $")
_NOT_ROAD_AFTER = re.compile(
    r"[:.,]?\d|%|(?:st|nd|rd|th)\b| ?(?:am|pm|min|mins|minutes|hours|people|riders|passengers|seats|of us|dollars|bucks|times)\b"
)
_ROAD_AFTER = re.compile(r"\s*号(?:州际)?(?:公路|高速|国道|線)")
_STREET_AFTER = re.compile(
    r"(?:(?:st|nd|rd|th|e|ème)\.?\s?|\s)(?:street|st|avenue|ave|rue|stra[sß]e)\b|\s*(?:丁目|街|番街)"
)
_STREET_BEFORE = re.compile(r"\b(?:calle|rua|avenida|av\.?|rue)\s+$")
_LATIN = r"[^\W_\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"
_DIGIT = re.compile(r"\d")
#: A name of up to three capitalised words, "of" / "de" allowed between them ("King of Prussia",
#: "Head of the Charles", "Playa del Carmen": one name, not two).
_CAP_PHRASE = re.compile(
    rf"(?<![\w@#])([A-Z](?:{_LATIN}|['’-])*(?:\s+(?:(?:of|de|del|du|des|da|do)\s+(?:the\s+)?)?[A-Z](?:{_LATIN}|['’-])*){{0,2}})"
)
_PERSON_BEFORE = re.compile(
    r"\b(?:driver|captain|agent|named|mr|mrs|ms|sopir|motorista|chofer|chauffeur)\W{1,3}$", re.I
)
#: German function words: the fallback when the caller does not pass the detected language.
_GERMAN = re.compile(
    r"\b(?:ich|nicht|und|seit|mein|meine|wir|ist|der|die|das|kann)\b.*\b(?:ich|nicht|und|seit|mein|meine|wir|ist|der|die|das|kann)\b"
)
#: What ends a sentence or opens one; and what may precede a name mid-sentence.
_SENTENCE_END = frozenset(".!?…¿¡。！？")
_MID = frozenset(",;:'\"’“”-–—(/&@#")
_POSSESSIVE = re.compile(r"['’](?:s|ve|re|ll|d|m)$", re.IGNORECASE)


def numbered_places(
    lower: str, known: Callable[[str], tuple[str, float] | None]
) -> tuple[dict[str, float], set[str]]:
    """Highways and numbered streets in ``lower`` (the lower-cased text) as place keys, and
    the words they cover (for :func:`capitalised_names`). ``known(alias)`` is the gazetteer
    key and weight of an alias, if any."""
    found: dict[str, float] = {}
    covered: set[str] = set()
    if _DIGIT.search(lower) is None:
        return found, covered
    for m in _NUMBER.finditer(lower):
        number, start, end = m.group(), m.start(), m.end()
        before, after = lower[max(0, start - 20) : start], lower[end : end + 20]
        road = _ROAD_BEFORE.search(before) or (len(number) > 1 and _ON_BEFORE.search(before))
        phrase = None
        if road and not _NOT_ROAD_AFTER.match(after):
            phrase = lower[start - len(road.group()) : end]
        elif (tail := _ROAD_AFTER.match(after)) is not None:
            phrase = lower[start : end + tail.end()]
        if phrase is not None:
            key, weight = known(f"i-{number}") or (f"hwy{number}", 1.0)
            found[key] = max(found.get(key, 0.0), weight)
            covered.update(phrase.split())
            continue
        if (tail := _STREET_AFTER.match(after)) is not None:
            phrase = lower[start : end + tail.end()]
        elif (head := _STREET_BEFORE.search(before)) is not None:
            phrase = lower[start - len(head.group()) : end]
        else:
            continue
        key, weight = known(phrase) or (f"street{number}", 1.0)
        found[key] = max(found.get(key, 0.0), weight)
        covered.update(phrase.split())
        covered.update(("station", "stop", "terminal"))  # "30th Street Station": the same place
    return found, covered


def capitalised_names(
    text: str,
    *,
    covered: set[str],
    words_covered: set[str],
    is_alias: Callable[[str], bool],
    stop: frozenset[str],
    language: str | None = None,
) -> list[str]:
    """Capitalised names mid-sentence that are not places already found nor ``stop`` words,
    as keys (lower case, no spaces). ``covered``: the gazetteer phrases found in the text;
    ``words_covered``: words of any place found; ``language``: the post's detected language
    (None: not known, then German function words decide)."""
    names: list[str] = []
    german = language == "de" if language is not None else _GERMAN.search(text) is not None
    if german:
        return names  # German capitalises every noun ("Stunde", "Fahrer"): not names
    for m in _CAP_PHRASE.finditer(text):
        before = text[: m.start()].rstrip()
        if not before or before[-1] in _SENTENCE_END or not (before[-1].isalnum() or before[-1] in _MID):
            continue  # a sentence-initial capital (after ".", "¿", an emoji) says nothing about a name
        raw = m.group(1).split()
        if all(w.isupper() for w in raw):
            continue  # shouting ("LEFT", "ZERO"): a known acronym is an alias, found already
        if _PERSON_BEFORE.search(text, max(0, m.start() - 14), m.start()) is not None:
            continue  # a person ("driver Marcus", "captain Jess")
        if any(w.lower().strip("'’.,") in words_covered for w in raw):
            continue  # the rest of a place already found ("Springs" of "Saratoga Springs")
        words = [
            w
            for w in (_POSSESSIVE.sub("", w) for w in raw)
            if w.lower().strip("'’") not in stop and len(w) > 1
        ]
        if not words:
            continue
        phrase = " ".join(words).lower()
        if is_alias(phrase) or len(phrase) < 3:
            continue
        if any(phrase in c or c in phrase for c in covered):
            continue  # part of a place already found ("Port" of "Port Authority")
        names.append(phrase.replace(" ", ""))
    return names
