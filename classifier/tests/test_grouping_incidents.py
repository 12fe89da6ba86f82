"""Incident grouping by what happened, where and when, across languages and scripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_classifier.nlp import Grouper, GroupingSettings, SignatureExtractor

T0 = datetime(2025, 7, 14, 13, tzinfo=UTC)


def _assign(g: Grouper, brand: str, texts: list[str], step_min: int = 5) -> list[str | None]:
    return [
        g.assign(brand=brand, text=t, at=T0 + timedelta(minutes=i * step_min)).group_id
        for i, t in enumerate(texts)
    ]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("the bus from NYC is late", "nyc"),
        ("el autobús de Nueva York", "nyc"),
        ("纽约到华盛顿的大巴", "nyc"),
        ("ニューヨーク発ワシントン行き", "washington"),
        ("the NYC-DC bus", "washington"),
        ("waiting at Port Authority", "port_authority"),
    ],
)
def test_places_are_normalised_across_languages_and_scripts(
    extractor: SignatureExtractor, text: str, place: str
) -> None:
    assert place in extractor.extract(text).entities


def test_one_incident_whatever_the_language_sentiment_or_category(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    ids = _assign(
        g,
        "ourbus",
        [
            "@OurBus the air con on our New York to Washington bus has been dead for an hour",
            "El aire acondicionado del autobús de Nueva York a Washington no funciona",
            "纽约到华盛顿的大巴空调坏了，车里热得要命",
            "ニューヨーク発ワシントン行きのバス、エアコンが壊れていて暑すぎる",
            "a passenger fainted from the heat on the NYC to DC bus, the AC is broken",
            "Thanks to the driver of the NY-DC bus today, AC was broken but he got us water",
        ],
    )
    assert ids[0] is not None
    assert len(set(ids)) == 1


def test_local_incident_needs_the_same_place(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    ithaca = g.assign(brand="ourbus", text="the 5pm Ithaca bus never came, waiting in Collegetown", at=T0)
    buffalo = g.assign(
        brand="ourbus", text="no bus at the Buffalo stop, it never came", at=T0 + timedelta(minutes=5)
    )
    again = g.assign(
        brand="ourbus",
        text="la parada de Collegetown en Ithaca: el bus nunca llegó",
        at=T0 + timedelta(minutes=9),
    )
    assert ithaca.group_id is not None and buffalo.group_id is not None
    assert buffalo.group_id != ithaca.group_id
    assert again.group_id == ithaca.group_id


def test_system_fault_spans_places_but_not_days(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    ids = _assign(
        g,
        "ourbus",
        [
            "the scanner won't read any QR codes at Port Authority",
            "La app no abre el boleto, el código QR no funciona. Estamos en Filadelfia.",
            "应用打不开电子票，二维码扫不了。我在华盛顿联合车站",
        ],
    )
    assert ids[0] is not None and len(set(ids)) == 1
    later = g.assign(brand="ourbus", text="QR code won't scan in Boston", at=T0 + timedelta(days=2))
    assert later.group_id != ids[0]


def test_a_post_about_last_week_does_not_join_today(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    now = g.assign(brand="ourbus", text="AC is broken on the Philly to Pittsburgh bus right now", at=T0)
    old = g.assign(
        brand="ourbus",
        text="AC on the Philly to Pittsburgh bus last week was barely working",
        at=T0 + timedelta(minutes=30),
    )
    assert now.group_id is not None and old.group_id != now.group_id


def test_an_unplaced_generic_report_does_not_join(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    a = g.assign(brand="rally", text="no bus at the Allentown pickup", at=T0)
    b = g.assign(brand="rally", text="disputing the charge, I paid for a bus that never showed", at=T0)
    assert a.group_id is not None and b.group_id != a.group_id


def test_group_summary(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor, GroupingSettings())
    g.assign(brand="rally", text="the return bus from MetLife left without us", at=T0)
    last = g.assign(
        brand="rally", text="le bus de retour du MetLife est parti sans nous", at=T0 + timedelta(minutes=20)
    )
    summary = last.summary
    assert summary is not None
    assert summary.size == 2
    assert summary.incident_type == "riders left behind"
    assert summary.place == "MetLife Stadium"
    assert summary.first_seen == T0 and summary.last_seen == T0 + timedelta(minutes=20)
    assert summary.as_dict()["size"] == 2
