"""Issue 14: priority from what a post reports happening now, and no saved answer in the
middle of an incident or to a request to act on a booking, in several languages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialdesk_classifier.nlp import Classifier, ClassifierSettings, Post, load_default_classifier
from socialdesk_classifier.nlp.language import LanguageDetector


@pytest.fixture(scope="module")
def clf() -> Classifier:
    # the named factors' own levels (calibration off; test_priority_calibration.py)
    return load_default_classifier(ClassifierSettings(priority_calibration=False))


def _post(text: str, *, followers: int = 50) -> Post:
    return Post(
        id="p",
        brand="ourbus",
        platform="x",
        kind="mention",
        author_followers=followers,
        text=text,
        created_at=datetime(2026, 2, 13, 12, tzinfo=UTC),
    )


def _priority_reason(reasons: list[str]) -> str:
    return next(r for r in reasons if r.startswith("priority "))


@pytest.mark.parametrize(
    "text",
    [
        "the 2pm from Union Station never showed up, 20 of us on the curb",
        "@OurBus el bus de las 2 a Nueva York nunca llegó, seguimos en la parada",
        "@OurBus o ônibus foi embora sem a gente, estamos no ponto",
        "@OurBus 去奥尔巴尼的车还没来，我们在34街等了一个小时",
        "@OurBus オールバニ行きのバスが来ません",
    ],
)
def test_no_bus_today_is_critical_in_every_language(clf: Classifier, text: str) -> None:
    d = clf.classify(_post(text))
    assert d.priority == "critical", d.reasons
    assert "stranded now" in _priority_reason(d.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "@OurBus our bus broke down on the Mass Pike, we're stuck on the shoulder for an hour",
        "@OurBus 波士顿开往纽约的大巴在高速上抛锚了，我们被困在路边",
        "@OurBus heat is completely off on the Pittsburgh bus, everyone is freezing",
    ],
)
def test_a_trip_under_way_in_trouble_is_high_not_critical(clf: Classifier, text: str) -> None:
    d = clf.classify(_post(text))
    assert d.priority == "high", d.reasons
    assert "trip under way in trouble" in _priority_reason(d.reasons)


def test_a_rider_who_found_another_way_is_no_longer_stranded(clf: Classifier) -> None:
    # No longer stranded: a complaint about a trip that is over (taxonomy: past trip, medium).
    d = clf.classify(_post("@OurBus the 6:30 to Albany never came so I gave up and took a train. Not happy."))
    assert d.priority == "medium", d.reasons


def test_an_earlier_no_show_is_not_stranded_now(clf: Classifier) -> None:
    d = clf.classify(_post("@OurBus the Ithaca bus never came last week and I'm still waiting on a refund"))
    assert d.priority != "critical", d.reasons


@pytest.mark.parametrize(
    "text",
    [
        "@OurBus is there wifi on board? our bus broke down and we're waiting for a replacement",
        "@OurBus can you resend my ticket to my work email instead?",
        "¿me pueden reenviar el boleto a otro correo? El que puse ya no lo uso @OurBus",
        "@OurBus mohon kirim ulang tiket saya ke email baru",
        "@OurBus what's the luggage allowance? and can you add a second bag to my booking please",
    ],
)
def test_no_saved_answer_when_a_person_must_act(clf: Classifier, text: str) -> None:
    assert clf.classify(_post(text)).auto_reply is None


@pytest.mark.parametrize(
    ("text", "template"),
    [
        ("@OurBus apakah di bus ada wifi dan colokan listrik?", "wifi_power"),
        ("@OurBus do all your buses have power outlets?", "wifi_power"),
    ],
)
def test_plain_faqs_still_get_their_saved_answer(clf: Classifier, text: str, template: str) -> None:
    assert clf.classify(_post(text)).auto_reply == template


def test_indonesian_is_detected() -> None:
    detector = LanguageDetector()
    assert (
        detector.detect("@OurBus tolong batalkan pemesanan saya untuk hari Sabtu dan kembalikan uangnya")[0]
        == "id"
    )
    assert detector.detect("the bus is late and nobody answers")[0] == "en"


def test_an_incident_report_is_a_complaint_not_chatter(clf: Classifier) -> None:
    d = clf.classify(_post("@OurBus 应用打不开电子票，二维码扫不了，司机不让上车"))
    assert d.queue == "cx"
