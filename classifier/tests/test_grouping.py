"""Incident grouping: same incident in different words and languages, bounded state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialdesk_classifier.nlp import Grouper, GroupingSettings, SignatureExtractor

T0 = datetime(2025, 8, 9, 15, tzinfo=UTC)


def test_same_incident_different_authors_words_and_languages(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    texts = [
        "@RallyBus no bus at the Scranton pickup for the Eagles game, it's 10:15 and nobody answers",
        "we've been waiting 2 hours in Scranton, the rally bus never came. #RallyFail",
        "Nos dejaron tirados en Scranton, el autobús nunca llegó. Quiero mi dinero.",
        "Please refund my seat, the Scranton rally bus didn't show up on Saturday",
    ]
    ids = [
        g.assign(brand="rally", text=t, at=T0 + timedelta(minutes=i)).group_id for i, t in enumerate(texts)
    ]
    assert ids[0] is not None
    assert len(set(ids)) == 1


def test_type_only_incident_joins_and_facets_split(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    a = g.assign(brand="ourbus", text="the app charged me twice for one ticket", at=T0)
    b = g.assign(
        brand="ourbus",
        text="duplicate charge on my card this morning, same trip",
        at=T0 + timedelta(minutes=3),
    )
    c = g.assign(brand="ourbus", text="you charged my luggage fee twice", at=T0 + timedelta(minutes=4))
    assert a.group_id is not None and a.group_id == b.group_id
    assert c.group_id != a.group_id  # a double luggage fee is a different fault
    assert "type:double_charge" in b.shared


def test_unrelated_posts_and_other_brands_stay_apart(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    a = g.assign(brand="ourbus", text="bus broke down on I-81 near Binghamton, we're on the shoulder", at=T0)
    b = g.assign(brand="rally", text="our rally bus broke down on I-81 too", at=T0 + timedelta(minutes=1))
    c = g.assign(
        brand="ourbus", text="does the Binghamton stop have a bathroom?", at=T0 + timedelta(minutes=2)
    )
    d = g.assign(brand="ourbus", text="great trip, thanks!", at=T0 + timedelta(minutes=3))
    assert a.group_id is not None
    assert b.group_id != a.group_id
    # Naming the place of an incident with no problem of its own still links (asking about it);
    # a post with neither an incident nor a place does not.
    assert c.group_id in (a.group_id, None)
    assert d.group_id is None
    # Two mentions of a venue with no incident anywhere do not make a group.
    g2 = Grouper(extractor)
    x = g2.assign(brand="rally", text="is the Ravens rally confirmed?", at=T0)
    y = g2.assign(brand="rally", text="can I bring a flag on the Ravens rally?", at=T0 + timedelta(minutes=1))
    assert x.group_id is None and y.group_id is None


def test_window_eviction_and_bounded_memory(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor, GroupingSettings(window_seconds=3600, max_groups_per_brand=10))
    first = g.assign(brand="ourbus", text="bus broke down on I-81", at=T0)
    later = g.assign(brand="ourbus", text="bus broke down on I-81", at=T0 + timedelta(hours=2))
    assert later.group_id != first.group_id  # the first incident expired
    for i in range(50):
        g.assign(
            brand="ourbus", text=f"bus broke down in Town{i}ville", at=T0 + timedelta(hours=3, seconds=i)
        )
    assert len(g) <= 10
