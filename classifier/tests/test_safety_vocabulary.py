"""Safety and legal posts in every language: short posts two helpers wrote from kind names
alone (session 9: 10 kinds such as fumes in the cabin, a medical emergency, a vulnerable
rider left alone at night, a regulator complaint, an accessibility claim; 8 languages, 3
each), plus 80 look-alikes that use the same words and are neither ("sue me but I love this
bus", "the driver drove so safely"). Safety and legal are always critical, so a miss here is
a critical post answered late. Not taken from any labelled set.

Measured before they were tests: the first set (s8) was read to write the cues; the second
(s9) then scored 123 -> 203 of 240 with no cue written from it, and its look-alikes 76 of 80."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialdesk_classifier.nlp import Classifier, Post, load_default_classifier

PROBES = Path(__file__).with_name("safety_probes.jsonl")
LANGS = {"en", "es", "pt", "fr", "de", "id", "zh", "ja"}


@pytest.fixture(scope="module")
def read() -> dict[str, Counter[str]]:
    clf: Classifier = load_default_classifier()
    out: dict[str, Counter[str]] = {"hits": Counter(), "total": Counter(), "kinds": Counter()}
    for i, line in enumerate(PROBES.read_text(encoding="utf-8").splitlines()):
        probe = json.loads(line)
        brand = "rally" if "rally" in probe["text"].lower() else "ourbus"
        post = Post(
            id=f"s{i}",
            brand=brand,
            platform="x",
            kind="mention",
            author_followers=100,
            text=probe["text"],
            created_at=datetime(2026, 6, 1, 12, tzinfo=UTC),
        )
        decision = clf.classify(post)
        key = "lookalike" if probe["label"] == "not" else probe["lang"]
        ok = (
            decision.category not in ("safety", "legal")
            if probe["label"] == "not"
            else decision.category == probe["label"] and decision.priority == "critical"
        )
        out["total"][key] += 1
        out["hits"][key] += ok
        out["kinds"][probe["kind"]] += 1
    return out


def test_the_probes_cover_every_kind_and_language(read: dict[str, Counter[str]]) -> None:
    assert set(read["total"]) - {"lookalike"} == LANGS
    assert len(read["kinds"]) == 11  # 10 kinds and the look-alikes
    assert read["total"]["lookalike"] == 80


@pytest.mark.parametrize("lang", sorted(LANGS))
def test_safety_and_legal_posts_are_read_in_every_language(read: dict[str, Counter[str]], lang: str) -> None:
    hits, total = read["hits"][lang], read["total"][lang]
    assert hits / total >= 0.95, (lang, hits, total)


def test_look_alikes_are_not_safety_or_legal(read: dict[str, Counter[str]]) -> None:
    assert read["hits"]["lookalike"] / read["total"]["lookalike"] >= 0.95, read["hits"]["lookalike"]
