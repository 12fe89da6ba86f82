"""Grouping (issue 14): the gazetteer across scripts, the types the taxonomy names, route
endpoints that disagree, the time window of a place, and type-less problem reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_classifier.nlp import Grouper, SignatureExtractor
from socialdesk_classifier.nlp.grouping import PROBLEM

T0 = datetime(2026, 2, 13, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("纽约到奥尔巴尼的车", "albany"),
        ("オールバニ行きのバス", "albany"),
        ("バス停はハートフォード", "hartford"),
        ("在伍斯特附近", "worcester"),
        ("ボルチモアで", "baltimore"),
        ("在霍博肯等车", "hoboken"),
        ("キリントンのスキー", "killington"),
        ("吉列体育场停车场", "gillette"),
        ("stuck on the Mass Pike", "i90"),
        ("en la calle 34", "nyc"),
        ("华盛顿联合车站", "union_station_dc"),
    ],
)
def test_brand_places_are_known_in_chinese_japanese_and_spanish(
    extractor: SignatureExtractor, text: str, place: str
) -> None:
    assert place in extractor.extract(text).entities


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("your app keeps saying payment could not be processed", "payment_failure"),
        ("la app no me deja pagar, error en el pago", "payment_failure"),
        ("impossible de payer sur l'appli, erreur de paiement", "payment_failure"),
        ("aplikasinya error terus waktu bayar", "payment_failure"),
        ("OurBus的app付款一直失败", "payment_failure"),
        ("アプリで支払いができません", "payment_failure"),
        ("heat is completely off on the bus", "heating_failure"),
        ("sin calefacción en el bus", "heating_failure"),
        ("车的暖气坏了", "heating_failure"),
        ("bus dari Boston mogok di jalan tol", "breakdown"),
        ("bus jam 6.30 belum datang juga", "no_show"),
        ("the Killington rally was cancelled and nobody told us", "rally_cancelled"),
        ("je reçois les confirmations de réservation d'autres clients", "data_exposure"),
        ("他の人の予約確認メールが届きました", "data_exposure"),
    ],
)
def test_incident_types_in_several_languages(extractor: SignatureExtractor, text: str, kind: str) -> None:
    assert kind in extractor.extract(text).types


def test_a_request_to_cancel_is_not_a_cancelled_trip(extractor: SignatureExtractor) -> None:
    assert "rally_cancelled" not in extractor.extract("please cancel my booking for Friday").types


def test_another_route_sharing_one_endpoint_is_another_incident(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    ac = [
        g.assign(brand="ourbus", text=t, at=T0 + timedelta(minutes=10 * i)).group_id
        for i, t in enumerate(
            [
                "the AC on the New York to DC bus is dead",
                "纽约到华盛顿的大巴空调坏了",
                "no AC at all on the NYC -> Washington bus",
            ]
        )
    ]
    assert ac[0] is not None and len(set(ac)) == 1
    # A different incident type mentioned in passing, on the NYC to Boston road, later.
    crash = g.assign(
        brand="ourbus",
        text="our NYC to Boston bus got rear-ended, the AC is broken now too",
        at=T0 + timedelta(hours=2),
    )
    assert crash.group_id not in (None, ac[0])


def test_a_place_links_only_within_its_window(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    morning = g.assign(brand="rally", text="no bus at the Gillette pickup, it never came", at=T0).group_id
    same = g.assign(
        brand="rally", text="the bus at Gillette never came, still waiting", at=T0 + timedelta(hours=1)
    ).group_id
    night = g.assign(
        brand="rally", text="the bus at Gillette never came back for us", at=T0 + timedelta(hours=16)
    ).group_id
    assert morning is not None and same == morning
    assert night is not None and night != morning


def test_a_typeless_complaint_at_a_place_opens_a_group_later_reports_join(
    extractor: SignatureExtractor,
) -> None:
    g = Grouper(extractor)
    first = g.assign(
        brand="ourbus", text="still stuck in Worcester, nobody tells us anything", at=T0, category="complaint"
    )
    assert first.group_id is not None and first.summary is not None
    assert first.summary.incident_type == "problem reported"
    later = g.assign(brand="ourbus", text="our bus broke down near Worcester", at=T0 + timedelta(minutes=20))
    thanks = g.assign(
        brand="ourbus",
        text="thanks to our driver in Worcester",
        at=T0 + timedelta(minutes=50),
        category="praise",
    )
    assert later.group_id == first.group_id == thanks.group_id
    assert later.summary is not None and later.summary.incident_type == "bus broke down"
    assert thanks.summary is not None and thanks.summary.size == 3


def test_a_typeless_praise_or_past_complaint_opens_nothing(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    assert (
        g.assign(brand="ourbus", text="lovely ride to Worcester", at=T0, category="praise").group_id is None
    )
    past = g.assign(brand="ourbus", text="the Worcester bus last week was dirty", at=T0, category="complaint")
    assert past.group_id is None
    assert PROBLEM == "problem"


def test_a_payment_outage_groups_without_a_place_across_languages(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    ids = [
        g.assign(brand="ourbus", text=t, at=T0 + timedelta(minutes=7 * i)).group_id
        for i, t in enumerate(
            [
                "app says payment could not be processed, trying to book Philly to Pittsburgh",
                "la app no me deja pagar, sale error en el pago",
                "OurBus的app付款一直失败，换了两张卡都不行",
                "impossible de payer sur l'appli, erreur de paiement à chaque fois",
            ]
        )
    ]
    assert ids[0] is not None and len(set(ids)) == 1
    # Nine hours after the last report it is another glitch.
    again = g.assign(brand="ourbus", text="payment failed again on the app", at=T0 + timedelta(hours=9))
    assert again.group_id not in (None, ids[0])


def test_german_nouns_are_not_place_names_when_the_post_is_detected_as_german(
    extractor: SignatureExtractor,
) -> None:
    """German capitalises every noun: with the detected language passed in, none is a name,
    even when the post has too few function words for the fallback check."""
    text = "Bus nach Boston heute: Heizung kaputt, Fahrer sagt nichts"
    assert not {"heizung", "fahrer"} & set(extractor.extract(text, language="de").entities)
    assert "boston" in extractor.extract(text, language="de").entities
    # an English post keeps its unknown names ("Sheetz" is a stop people name)
    assert "sheetz" in extractor.extract("waiting at the Sheetz in Altoona, no bus", language="en").entities


@pytest.mark.parametrize(
    ("text", "crash"),
    [
        ("our bus got hit by a truck on I-95", True),
        ("we got hit, everyone is ok", True),
        ("friday my card got hit twice for one ticket", False),
        ("my account got hit with a fee for changing seats", False),
        ("the bus got hit again by a car on the way back", True),
        ("got hit twice by the same driver on I-95", True),
        ("the bus was hit from behind at the light", True),
        ("I got hit with a $35 change fee", False),
        ("we got hit with a double charge", False),
        ("I was hit with a late fee", False),
        ("got hit twice for one ticket", False),
    ],
)
def test_a_card_that_got_hit_twice_is_a_charge_not_a_crash(
    extractor: SignatureExtractor, text: str, crash: bool
) -> None:
    sig = extractor.extract(text)
    assert ("accident" in sig.types or "accident" in sig.mentions) is crash
