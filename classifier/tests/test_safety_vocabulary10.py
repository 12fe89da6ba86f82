"""Safety and legal posts told without their usual words, and look-alikes that must not fire
(session 10): two helpers each wrote 256 probes from eight kind names (medical, harassment,
a threat or weapon, a rider left alone at night, an unsafe vehicle, a collision, legal
action, accessibility), per language one direct, two indirect and one look-alike. The cues
were written from safety10a; safety10b was scored before its misses were read (decision
0108: indirect 31 -> 34 of 128, look-alikes 51 -> 54 of 64), then widened from it too. The
floors keep what both sets reach now. Some indirect probes are thank-yous told afterwards,
which `dev.jsonl`'s labellers call praise: the indirect floor is low on purpose."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from socialdesk_classifier.nlp import Decision

PROBES = Path(__file__).with_name("safety_probes10.jsonl")
LEGAL = frozenset({"legal_action", "accessibility"})
FLOORS = {"direct": 0.9, "indirect": 0.35, "lookalike": 0.95}


@pytest.fixture(scope="module")
def scored(classify: Callable[[str], Decision]) -> tuple[Counter[str], Counter[str]]:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for line in PROBES.read_text(encoding="utf-8").splitlines():
        probe = json.loads(line)
        category = classify(probe["text"]).category
        if probe["style"] == "lookalike":
            ok = category not in ("safety", "legal")
        else:
            ok = category == ("legal" if probe["kind"] in LEGAL else "safety")
        total[probe["style"]] += 1
        right[probe["style"]] += ok
    return right, total


@pytest.mark.parametrize("style", sorted(FLOORS))
def test_each_style_is_read_at_its_floor(scored: tuple[Counter[str], Counter[str]], style: str) -> None:
    right, total = scored
    assert total[style] == (256 if style == "indirect" else 128)
    assert right[style] / total[style] >= FLOORS[style], (style, right[style], total[style])
