"""Grouping's incident vocabulary in every language: short posts helpers wrote from a kind's
name alone (session 7: 16 kinds, session 8: 6 more; 8 languages, 4 each; session 9: the 10
core kinds again, 5 each, 2 of them told indirectly), each must be read
as its kind's class. Written as probes of the word families, not taken from any
labelled set; the sealed sets measure what this does to grouping."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from socialdesk_classifier.nlp import SignatureExtractor
from socialdesk_classifier.nlp.group_state import compared

PROBES = Path(__file__).with_name("incident_probes.jsonl")
CLASS_OF_KIND = {
    "no_show": "no_ride",
    "late": "no_ride",
    "left_behind": "no_ride",
    "left_early": "no_ride",
    "rally_cancelled": "no_ride",
    "breakdown": "vehicle",
    "accident": "vehicle",
    "ac_failure": "ac_failure",
    "heating_failure": "heating_failure",
    "app_down": "ticket_scan",
    "qr_failure": "ticket_scan",
    "double_charge": "double_charge",
    "luggage": "luggage",
    "unsafe_driving": "driving",
    "toilet": "toilet",
    "wifi": "wifi_out",
    # session 8 (probes8b: 6 kinds, 8 languages, 4 each)
    "leak": "leak",
    "overheating": "vehicle",
    "promo_rejected": "promo_rejected",
    "refund_missing": "refund_missing",
    "wrong_stop": "wrong_stop",
    "dirty_bus": "dirty_bus",
    # session 9 (probes9: the 10 core kinds, 8 languages, 5 each, 2 of them indirect)
    "outage_p9": "ticket_scan",
    "cancelled_p9": "no_ride",
    "ticket_scan_p9": "ticket_scan",
}


@pytest.fixture(scope="module")
def read(extractor: SignatureExtractor) -> dict[str, Counter[str]]:
    hits: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for line in PROBES.read_text(encoding="utf-8").splitlines():
        probe = json.loads(line)
        sig = compared(extractor.extract(probe["text"], language=probe["lang"]), extractor.type_class)
        total[probe["lang"]] += 1
        hits[probe["lang"]] += CLASS_OF_KIND[probe["kind"]] in sig.types
    return {"hits": hits, "total": total}


def test_every_kind_is_read_in_every_language(read: dict[str, Counter[str]]) -> None:
    assert set(read["total"]) == {"en", "es", "pt", "fr", "de", "id", "zh", "ja"}
    for lang, total in read["total"].items():
        assert read["hits"][lang] / total >= 0.9, (lang, read["hits"][lang], total)
    assert sum(read["hits"].values()) / sum(read["total"].values()) >= 0.97
