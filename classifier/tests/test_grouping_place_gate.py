"""Session 16 (decision 0114): a join through a place alone needs a post likely to be about an
incident at all (the incident head's probability, when known); the learned joins judge the
others. Texts written for this test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_classifier.nlp import Grouper, SignatureExtractor
from socialdesk_classifier.nlp.settings import GroupingSettings

T0 = datetime(2026, 9, 12, 14, 0, tzinfo=UTC)
LATE = "the bus to Trenton is 40 min late, we're all still at the Princeton stop"
#: another kind at the same stop, within the hour: joins through the place alone
SCAN = "driver at the Princeton stop can't scan a single ticket, his phone goes red"


def _pair(g: Grouper, incident_p: float | None) -> tuple[str | None, str | None]:
    first = g.assign(brand="ourbus", text=LATE, at=T0, category="complaint", incident_p=0.9)
    second = g.assign(
        brand="ourbus", text=SCAN, at=T0 + timedelta(minutes=9), category="complaint", incident_p=incident_p
    )
    return first.group_id, second.group_id


@pytest.mark.parametrize(("incident_p", "joins"), [(0.9, True), (0.3, True), (0.29, False), (None, True)])
def test_a_place_alone_joins_only_a_post_likely_about_an_incident(
    extractor: SignatureExtractor, incident_p: float | None, joins: bool
) -> None:
    first, second = _pair(Grouper(extractor, GroupingSettings()), incident_p)
    assert first is not None
    assert (second == first) is joins


def test_a_gate_of_zero_is_the_rules_of_before(extractor: SignatureExtractor) -> None:
    first, second = _pair(Grouper(extractor, GroupingSettings(place_only_min_incident_p=0.0)), 0.01)
    assert first is not None and second == first


def test_a_type_in_common_is_not_gated(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor, GroupingSettings())
    first = g.assign(brand="ourbus", text=LATE, at=T0, category="complaint", incident_p=0.9)
    again = g.assign(
        brand="ourbus",
        text="still waiting at the Princeton stop, bus 40 min late",
        at=T0 + timedelta(minutes=5),
        category="complaint",
        incident_p=0.05,
    )
    assert again.group_id == first.group_id
