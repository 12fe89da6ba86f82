"""Grouping (session 7): riders name their bus by its clock time in every language ("the 7:15
to DC", "el bus de las 7:15", "9時15分の便"); a post with no incident of its own that shares the
time and a place with an open incident joins it. Texts written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_classifier.nlp import Grouper, SignatureExtractor
from socialdesk_classifier.nlp.departures import departure_times
from socialdesk_classifier.nlp.settings import GroupingSettings

T0 = datetime(2026, 9, 14, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("the 7:15 nyc to dc", {"@7:15", "@19:15"}),
        ("the 7:15pm to dc", {"@19:15"}),
        ("the 3pm to ithaca", {"@15:00"}),
        ("10 a.m. bus", {"@10:00"}),
        ("ônibus das 14h pra boston", {"@14:00"}),
        ("le bus de 7h15", {"@7:15", "@19:15"}),
        ("bus jam 7.15 dari new york", {"@7:15", "@19:15"}),
        ("um 14 uhr ab new york", {"@14:00"}),
        ("ニューヨーク14時発", {"@14:00"}),
        ("9時15分の便", {"@9:15", "@21:15"}),
        ("早上7点半的车", {"@7:30", "@19:30"}),
        # durations, prices, scores and counts are not departures
        ("3h de retard", set()),
        ("waited 2:30 hours", set()),
        ("paid $12.50 for nothing", set()),
        ("we won 2:1", set()),
        ("7 a week is too many", set()),
        ("menunggu 2 jam", set()),
        ("on I-81 for 45 min", set()),
    ],
)
def test_departure_times_are_read_in_every_language_and_nothing_else(text: str, keys: set[str]) -> None:
    assert departure_times(text.lower()) == keys


def _run(extractor: SignatureExtractor, posts: list[tuple[str, str]]) -> list[str | None]:
    g = Grouper(extractor, GroupingSettings())
    return [
        g.assign(
            brand="ourbus", text=text, at=T0 + timedelta(minutes=8 * i), category=cat, post_id=f"p{i}"
        ).group_id
        for i, (cat, text) in enumerate(posts)
    ]


NO_SHOW = [
    ("complaint", "@OurBus the 7:15 NYC to DC never showed, 30 of us waiting on 34th"),
    ("complaint", "el bus de las 7:15 de Nueva York a Washington no llegó"),
]


def test_posts_with_no_incident_of_their_own_join_through_the_time_and_a_place(
    extractor: SignatureExtractor,
) -> None:
    ids = _run(
        extractor,
        [
            *NO_SHOW,
            (
                "praise",
                "shoutout to the driver of the 9am DC bus who took a bunch of us from the 7:15 on board",
            ),
            ("request", "今朝の7時15分のワシントン行き、タクシー代を返金してください"),
        ],
    )
    assert ids[0] is not None and len(set(ids)) == 1, ids


@pytest.mark.parametrize(
    ("cat", "text"),
    [
        # another half of the day: 10pm is not the 10am
        ("safety", "a man on the 10pm NYC to Washington bus keeps bothering the girl next to him"),
        # a time and no place: too little
        ("praise", "thanks to the driver of the 7:15 this morning, so kind"),
        # a named weekday: that day's 7:15, not today's
        ("complaint", "every Sunday the 7:15 from NYC to DC is packed, add a bus"),
    ],
)
def test_a_time_in_common_is_not_enough_when_the_half_day_differs_no_place_is_shared_or_a_day_is_named(
    extractor: SignatureExtractor, cat: str, text: str
) -> None:
    group = [
        ("complaint", "@OurBus the 10am NYC to DC never showed, 30 of us waiting on 34th"),
        ("complaint", "el bus de las 10 a.m. de Nueva York a Washington no llegó"),
    ]
    if "7:15" in text:
        group = NO_SHOW
    ids = _run(extractor, [*group, (cat, text)])
    assert ids[0] is not None and ids[0] == ids[1]
    assert ids[2] != ids[0]


def test_a_time_in_common_does_not_join_a_system_fault_reported_from_everywhere(
    extractor: SignatureExtractor,
) -> None:
    ids = _run(
        extractor,
        [
            ("complaint", "the app is down, can't open my ticket for the 7:15 to Boston"),
            ("complaint", "la app no abre y mi bus a Filadelfia sale pronto"),
            ("complaint", "is the 7:15 to Boston even running? nobody at the stop"),
        ],
    )
    assert ids[0] is not None and ids[0] == ids[1]
    assert ids[2] != ids[0]


@pytest.mark.parametrize(
    "text",
    [
        "QR code invalid at the Albany stop and I paid for it yesterday!!",
        "código QR inválido en Albany, y lo compré hace dos semanas",
        "奥尔巴尼上车二维码无效，我昨天就付钱了",
    ],
)
def test_when_the_ticket_was_bought_does_not_date_the_incident(
    extractor: SignatureExtractor, text: str
) -> None:
    assert not extractor.extract(text).facets & {"earlier", "long_ago"}
    ids = _run(
        extractor,
        [
            ("complaint", "QR codes not scanning at the Albany stop, driver turning people away"),
            ("complaint", "the scanners are down in Boston too, nobody can board"),
            ("complaint", text),
        ],
    )
    assert ids[0] is not None and len(set(ids)) == 1, ids


def test_a_trip_yesterday_is_still_dated(extractor: SignatureExtractor) -> None:
    assert "earlier" in extractor.extract("my bus yesterday never came and I paid $40").facets


@pytest.mark.parametrize(
    "posts",
    [
        [
            ("complaint", "wifi on the 2pm NYC to Boston bus is dead, outlets not working either"),
            ("complaint", "el wifi no funciona en el bus de Nueva York a Boston, ni los enchufes"),
            ("complaint", "纽约去波士顿的车上wifi连不上，插座也坏了"),
        ],
        [
            ("complaint", "the driver of the 5pm Philly to DC bus yelled at an old man for being slow"),
            ("complaint", "el chofer del bus de Filadelfia a Washington nos gritó a todos, qué grosero"),
            ("safety", "o motorista do ônibus Filadélfia-Washington gritou com uma senhora, muito grosseiro"),
        ],
    ],
    ids=["wifi out", "rude driver"],
)
def test_the_taxonomys_wifi_and_rude_driver_complaints_about_one_bus_group(
    extractor: SignatureExtractor, posts: list[tuple[str, str]]
) -> None:
    ids = _run(extractor, posts)
    assert ids[0] is not None and len(set(ids)) == 1, ids


def test_a_wifi_question_opens_no_incident(extractor: SignatureExtractor) -> None:
    assert _run(extractor, [("query", "is there wifi and power on the NYC to Boston bus?")]) == [None]


def test_a_problem_report_on_a_numbered_road_opens_an_incident_others_there_join(
    extractor: SignatureExtractor,
) -> None:
    """A complaint or safety report that names no known kind of fault but a road ("stopped dead
    on Route 9 for an hour") opens a group; a later post on that road joins it."""
    ids = _run(
        extractor,
        [
            (
                "safety",
                "we've been stopped dead on Route 9 with the hazards on for an hour, no word from anyone",
            ),
            ("complaint", "still sitting on route 9, driver says dispatch isn't answering"),
        ],
    )
    assert ids[0] is not None and ids[0] == ids[1], ids


def test_the_same_hour_on_another_route_is_another_bus(extractor: SignatureExtractor) -> None:
    """Session 11: a post with no incident of its own shares only "7am" and "NYC" with a DC
    no-show; it names Ithaca, which the group never named, while the group lies in
    Washington: another route's 7am, not this incident."""
    g = Grouper(extractor)
    dc = [
        "@OurBus 7am from Union Station to NYC never came, 40 of us still waiting",
        "still no bus at Union Station for the 7am to New York, app says nothing",
    ]
    first = [
        g.assign(brand="ourbus", text=t, at=T0 + timedelta(minutes=5 * i)).group_id for i, t in enumerate(dc)
    ]
    assert first[0] is not None and first[0] == first[1]
    other = g.assign(
        brand="ourbus",
        text="where is the 7am to NYC picking up?? the usual Ithaca spot is fenced off",
        at=T0 + timedelta(minutes=20),
    )
    assert other.group_id != first[0]
    same = g.assign(
        brand="ourbus", text="anyone know if the 7am to NYC from DC is coming?", at=T0 + timedelta(minutes=25)
    )
    assert same.group_id == first[0]
