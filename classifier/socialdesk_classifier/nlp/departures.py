"""Departure times a post names ("the 7:15", "bus das 14h", "jam 7.15", "9時15分", "3pm").

Riders name their trip by its clock time more often than by anything else ("my 7:15 to DC
never came", "the driver of the 10am squeezed us in from the cancelled 7:15"), in every
language, and two posts about one bus within hours share it. Grouping reads a shared time as
specific evidence, like a stop (see :mod:`~socialdesk_classifier.nlp.grouping`).

Keys are on a 24-hour clock ("@19:15"). A time with no am/pm that could be either ("7:15")
gets both keys, so it meets "7:15am" and "7:15pm" but "10am" never meets "10pm"; grouping
counts a post's departure keys once. Only clock times are read, never durations ("3h de
retard", "2:30 hours", "waited 45 min") nor prices ("$12.50").
"""

from __future__ import annotations

import re

__all__ = ["DEPARTURE", "DEPARTURE_WEIGHT", "departure_times"]

#: An entity weight: specific (``SPECIFIC_PLACE``) but below a stop's, so that a time alone
#: never reaches the join threshold (1.0); with a route endpoint (0.3) it does. A post's departure keys
#: count once, however many it shares.
DEPARTURE_WEIGHT = 0.75
#: The first character of a departure key ("@19:15"), which no place key has.
DEPARTURE = "@"

_H = r"(?P<h>[01]?\d|2[0-3])"
_M = r"(?P<m>[0-5]\d)"
_TIMES = (
    # 7pm, 7 pm, 7.15pm, 7 a.m.
    re.compile(rf"(?<![\d$€£.:,]){_H}(?:[.:]{_M})? ?(?P<ap>[ap])\.?m\b"),
    # 7:15, 7:15pm, 19:15 (not a ratio "2:1", a price or a duration "2:30 hours")
    re.compile(rf"(?<![\d$€£.:,]){_H}:{_M}(?!\d)(?! ?(?:hours?|hrs?|h\b|horas|heures|stunden|jam\b))"),
    # 7h15 (fr/pt); "14h" only after a word that makes it a time of day, not "3h de retard"
    re.compile(rf"(?<![\d$€£.:,]){_H}h{_M}\b"),
    re.compile(rf"\b(?:à|às|das|dès|les|pour|bus|car|ônibus)\s{_H}h\b"),
    # jam 7.15 / pukul 19.00 / las 7.15 / 7.15 Uhr / 14 Uhr
    re.compile(rf"\b(?:jam|pukul|las)\s{_H}(?:[.:]{_M})?(?=\s*(?:uhr\b|wib\b|pagi|siang|sore|malam|\W|$))"),
    re.compile(rf"(?<![\d$€£.:,]){_H}(?:[.:]{_M})?\s?uhr\b"),
    # 7時15分, 14時, 7時半 (ja); 7点15分, 7点半, 下午2点 (zh)
    re.compile(rf"(?<!\d){_H}\s?[時时点點](?:(?P<half>半)|{_M}分?)?"),
)

#: Every pattern above needs one of these: a digit next to ":", ".", "h", am/pm, "uhr" or a
#: CJK hour mark, or after "jam", "pukul", "las", "à"...
_MAYBE = re.compile(
    r"\d(?:[:.h]|\s?(?:[ap]\.?m|uhr|[時时点點]))|(?:jam|pukul|las|às|das|dès|les|pour|bus|car|ônibus|à)\s\d"
)


def departure_times(lower: str) -> frozenset[str]:
    """Clock times named in ``lower`` (the lower-cased text) as keys such as ``"@19:15"``."""
    if _MAYBE.search(lower) is None:  # one C-level scan: most posts name no clock time
        return frozenset()
    found: set[str] = set()
    # The hour digits each pattern read: "7:15pm" and "las 10 a.m." are read by the am/pm
    # pattern first; the others then skip those digits instead of adding the other half-day.
    taken: set[int] = set()
    for pattern in _TIMES:
        for m in pattern.finditer(lower):
            if m.start("h") in taken:
                continue
            taken.add(m.start("h"))
            groups = m.groupdict()
            hour = int(groups["h"])
            minute = int(groups.get("m") or 0)
            if groups.get("half"):
                minute = 30
            ap = groups.get("ap")
            if (ap and hour > 12) or (hour == 0 and not groups.get("m")):
                continue  # "14pm", "0h", "0点": not a departure
            if ap:
                found.add(f"{DEPARTURE}{hour % 12 + (12 if ap == 'p' else 0)}:{minute:02d}")
            elif hour > 12 or hour == 0:
                found.add(f"{DEPARTURE}{hour}:{minute:02d}")
            else:  # 1-12 with no am/pm: either half of the day
                found.add(f"{DEPARTURE}{hour % 12}:{minute:02d}")
                found.add(f"{DEPARTURE}{hour % 12 + 12}:{minute:02d}")
    return frozenset(found)
