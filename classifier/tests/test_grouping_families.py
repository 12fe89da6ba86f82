"""Grouping (issue 14, wave 5): one incident whatever the language, wording, sentiment or
category of each post (word families and classes), places normalised across languages and
spellings (gazetteer, roads and numbered streets), and the day a post is about.

The posts here are written for these tests from the taxonomy, not copied from a data set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_classifier.nlp import Grouper, SignatureExtractor

T0 = datetime(2026, 8, 3, 14, 0, tzinfo=UTC)


def _stream(
    g: Grouper, posts: list[tuple[str, str]], *, brand: str = "ourbus", step: int = 7
) -> list[str | None]:
    """Assign (category, text) posts ``step`` minutes apart; their group ids."""
    return [
        g.assign(
            brand=brand, text=text, at=T0 + timedelta(minutes=step * i), category=cat, post_id=f"p{i}"
        ).group_id
        for i, (cat, text) in enumerate(posts)
    ]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("the bus to Nova York", "nyc"),
        ("ニューヨーク行きのバス", "nyc"),
        ("去纽约的车", "nyc"),
        ("el autobús a Filadelfia", "philadelphia"),
        ("费城出发", "philadelphia"),
        ("华盛顿到纽约", "washington"),
        ("ボストン行き", "boston"),
        ("波士顿南站", "boston"),
        ("stopped on I-81", "i81"),
        ("we're on 81 north of Binghamton", "i81"),
        ("停在81号公路边上", "i81"),
        ("stuck on Route 17 near the mall", "hwy17"),
        ("waiting at 30th Street Station", "thirtieth_street"),
        ("at 30th St. since 7", "thirtieth_street"),
        # "on" before a number reads a road ("on 81"), but not before an ordinal street
        ("standing on 10th Ave for an hour", "street10"),
        ("the stop on 1st Avenue moved", "street1"),
        ("在宾汉姆顿没装行李", "binghamton"),
        ("サラトガのコンサート", "saratoga"),
        ("ペンステートの試合", "state_college"),
        ("Collegetownのバス停", "collegetown"),
    ],
)
def test_places_are_one_key_across_languages_spellings_and_roads(
    extractor: SignatureExtractor, text: str, place: str
) -> None:
    assert place in extractor.extract(text).entities


@pytest.mark.parametrize(
    "text",
    ["my 21st birthday trip", "it's 7:10 and on 30 min hold", "left us 40 minutes late"],
)
def test_times_and_ordinals_are_not_roads_or_streets(extractor: SignatureExtractor, text: str) -> None:
    assert not [e for e in extractor.extract(text).entities if e.startswith(("hwy", "street", "i"))]


def test_leftovers_of_a_place_and_possessives_are_not_places(extractor: SignatureExtractor) -> None:
    entities = extractor.extract(
        "stuck in Saratoga Springs and the driver on Tuesday's run, I've no idea"
    ).entities
    assert "saratoga" in entities
    assert not {"springs", "tuesday's", "tuesday", "i've"} & set(entities)


def test_a_thank_you_mentions_the_incident_without_reporting_it(extractor: SignatureExtractor) -> None:
    sig = extractor.extract("thanks to our driver who got everyone off calmly when the smoke started")
    # Grouping reads the mention; category and priority (which read ``types``) do not.
    assert "smoke" in sig.mentions
    assert not sig.types


def test_one_breakdown_in_seven_languages_and_four_categories_is_one_group(
    extractor: SignatureExtractor,
) -> None:
    ids = _stream(
        Grouper(extractor),
        [
            (
                "complaint",
                "@OurBus our Harrisburg to NYC bus died on I-78 near Allentown, everyone is on the shoulder",
            ),
            ("complaint", "el autobús se quedó parado en la I-78 cerca de Allentown, el motor hace ruido"),
            ("complaint", "从哈里斯堡到纽约的大巴在78号公路上抛锚了"),
            ("query", "o ônibus quebrou na I-78 perto de Allentown, quanto tempo até chegar outro?"),
            ("complaint", "l'autocar est en panne sur l'autoroute 78, on attend depuis une heure"),
            ("complaint", "アレンタウン近くの78号線でバスが故障して動きません"),
            ("complaint", "bus kami mogok di I-78 dekat Allentown, belum ada bus pengganti"),
            ("praise", "thank you to our driver for handling the breakdown near Allentown so calmly today"),
        ],
    )
    assert ids[0] is not None and len(set(ids)) == 1


def test_a_complaint_a_safety_report_and_a_thank_you_about_one_broken_ac(
    extractor: SignatureExtractor,
) -> None:
    ids = _stream(
        Grouper(extractor),
        [
            (
                "complaint",
                "the air on the 2pm DC to New York bus is not working at all, it's like 90 degrees",
            ),
            (
                "safety",
                "a man on the Washington to NYC bus just fainted from the heat, no AC since Baltimore",
            ),
            ("complaint", "华盛顿到纽约的车上空调坏了，热得受不了"),
            ("complaint", "le bus Washington - New York, la clim ne marche pas depuis le départ"),
            ("praise", "shoutout to the driver on the sweltering DC-NYC run who handed out cold water"),
        ],
    )
    assert ids[0] is not None and len(set(ids)) == 1


def test_a_no_show_a_late_bus_and_its_arrival_at_one_pickup_are_one_incident(
    extractor: SignatureExtractor,
) -> None:
    ids = _stream(
        Grouper(extractor),
        [
            ("complaint", "@RallyBus Bills rally from Rochester was due at 9, it's 9:40 and there's no bus"),
            ("complaint", "estamos en Rochester esperando el autobús al partido de los Bills"),
            ("complaint", "罗切斯特去看比赛的大巴还没来，等了四十分钟了"),
            ("query", "is the Rochester bus to Highmark even coming? captain's phone is off"),
            ("praise", "bus finally rolled into the Rochester lot, captain apologised. made kickoff, thanks"),
        ],
        brand="rally",
    )
    assert ids[0] is not None and len(set(ids)) == 1


def test_a_system_fault_links_across_cities_in_any_wording(extractor: SignatureExtractor) -> None:
    ids = _stream(
        Grouper(extractor),
        [
            ("complaint", "the app says my Hartford bus leaves at 3:15 but it already left at 2:45"),
            ("complaint", "la app marcaba otra hora de salida y el bus a Filadelfia ya se fue"),
            ("complaint", "应用里的发车时间不对，去波士顿的车提前走了"),
            ("query", "are the app's departure times wrong today? mine disagrees with the email"),
        ],
        step=5,
    )
    assert ids[0] is not None and len(set(ids)) == 1


def test_unsafe_driving_reported_in_several_languages_is_one_incident(extractor: SignatureExtractor) -> None:
    ids = _stream(
        Grouper(extractor),
        [
            ("safety", "the Baltimore to NYC driver is speeding and weaving between trucks, I'm scared"),
            ("safety", "el chofer del bus de Baltimore a Nueva York va a exceso de velocidad"),
            ("safety", "o motorista do ônibus Baltimore - Nova York está costurando entre caminhões"),
            ("complaint", "whoever drives the morning Baltimore bus should not be driving. reckless"),
        ],
        step=4,
    )
    assert ids[0] is not None and len(set(ids)) == 1


def test_luggage_left_at_one_stop_is_one_incident(extractor: SignatureExtractor) -> None:
    ids = _stream(
        Grouper(extractor),
        [
            ("complaint", "my suitcase never got loaded at South Station, the driver left it on the curb"),
            ("complaint", "same bus, half the bags stayed behind at South Station"),
            ("query", "nuestras maletas se quedaron en South Station, ¿cómo las recuperamos?"),
            ("query", "who do I call about luggage left at South Station this morning?"),
        ],
    )
    assert ids[0] is not None and len(set(ids)) == 1


def test_two_routes_with_different_towns_stay_apart_though_both_name_nyc(
    extractor: SignatureExtractor,
) -> None:
    g = Grouper(extractor)
    a, b = _stream(
        g,
        [
            ("complaint", "our NYC to Albany bus broke down outside Kingston, waiting for a mechanic"),
            ("complaint", "the Boston to NYC bus broke down near Worcester, an hour on the shoulder"),
        ],
    )
    assert a is not None and b is not None and a != b


def test_a_weak_late_post_needs_a_specific_place(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    first, second = _stream(
        g,
        [
            ("complaint", "bus from Boston to NYC no-show, nobody at the stop"),
            ("complaint", "my Boston bus is running late again"),
        ],
    )
    assert second is None or second != first


def test_a_question_about_another_days_trip_does_not_join_by_place(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    ids = _stream(
        g,
        [
            ("complaint", "the Rochester rally bus to the Bills game never came, 30 of us waiting"),
            ("query", "is the Rochester Bills rally for next Sunday confirmed yet?"),
            ("complaint", "my refund for the Rochester trip 3 weeks ago never arrived"),
            ("request", "please resend my ticket for the Rochester rally"),
        ],
        brand="rally",
    )
    assert ids[0] is not None
    assert all(i != ids[0] for i in ids[1:])


def test_a_team_s_game_and_its_stadium_are_one_place(extractor: SignatureExtractor) -> None:
    ids = _stream(
        Grouper(extractor),
        [
            ("complaint", "our bus from Worcester to the Pats game never showed up"),
            ("complaint", "so the rally to Foxborough just doesn't exist? no bus at all"),
        ],
        brand="rally",
    )
    assert ids[0] is not None and ids[0] == ids[1]


def test_the_summary_names_what_most_posts_report(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    when = [T0 + timedelta(minutes=m) for m in (0, 6, 12)]
    texts = [
        "smoke coming from the vents on the bus to Syracuse, we got off on I-81",
        "humo dentro del autobús a Syracuse",
        "thanks to our driver on the Syracuse bus who got us off when the smoke started",
    ]
    last = None
    for at, text in zip(when, texts, strict=True):
        last = g.assign(brand="ourbus", text=text, at=at, category="safety")
    assert last is not None and last.summary is not None
    assert last.summary.size == 3
    assert last.summary.incident_type == "smoke or fire on the bus"
    assert last.summary.place is not None and "Syracuse" in last.summary.place
    assert last.summary.first_seen == when[0] and last.summary.last_seen == when[-1]


def test_only_saying_it_was_hot_needs_the_route_not_one_city(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor)
    ids = _stream(
        g,
        [
            ("complaint", "the AC on the NYC to Boston bus is dead, we're melting"),
            ("complaint", "no air conditioning on the New York - Boston run, awful"),
            ("complaint", "so hot on my Boston bus lol"),
            ("praise", "thanks to the driver on the sweltering NYC-Boston run who handed out water"),
        ],
    )
    assert ids[0] is not None and ids[1] == ids[0]
    assert ids[2] != ids[0]  # one endpoint and a word for the heat: not enough
    assert ids[3] == ids[0]  # the route's two endpoints: the same bus
