"""Today's trip told once it is over is a past trip (medium); riders still stuck, who say so
in their own language's present tense, or are left at the stop, are not (session 15).

The taxonomy puts "complaints about a past trip" at medium and "an active trip in trouble" at
high. "Today" dates a trip; it does not say the trip is still going on: "today's bus had no
wifi" is over, "the wifi on today's bus is still dead" is not. The texts are written for
these tests, not copied from an evaluation set."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from socialdesk_classifier.nlp import Decision

Classify = Callable[[str], Decision]


def _priority_reason(decision: Decision) -> str:
    return next(r for r in decision.reasons if r.startswith("priority "))


@pytest.mark.parametrize(
    "text",
    [
        "@OurBus the wifi on the Albany bus today was useless the whole way, paid for nothing",
        "@OurBus el bus de hoy a Hartford llegó tarde y el aire estaba roto, qué mala experiencia",
        "@OurBus o ônibus de hoje pra Albany foi horrível, o wifi não funcionou nenhuma vez",
        "@OurBus Der Bus heute nach Albany war total dreckig, die Sitze waren kaputt",
        "今日のボストン行きのバス、Wi-Fiが全然使えなかった。",
    ],
)
def test_a_complaint_about_todays_trip_told_once_it_is_over_is_medium(classify: Classify, text: str) -> None:
    decision = classify(text)
    assert decision.category == "complaint", decision.reasons
    assert decision.priority == "medium", decision.reasons
    assert "time pressure" not in _priority_reason(decision), decision.reasons


@pytest.mark.parametrize(
    "text",
    [
        "@OurBus the wifi on the Albany bus today was fine at first, now it's dead and I'm still on for 3 hours",
        "@OurBus el bus de hoy a Hartford estaba limpio pero ahora el baño no funciona y faltan dos horas",
    ],
)
def test_today_with_something_still_going_on_stays_under_time_pressure(classify: Classify, text: str) -> None:
    decision = classify(text)
    assert decision.priority in ("high", "critical"), decision.reasons


@pytest.mark.parametrize(
    "text",
    [
        "@OurBus seit zwei Stunden stehen wir auf der I-81, keine Info, keine Heizung",
        "@OurBus il est 23h15 et on est encore à Scranton, personne ne nous dit rien",
    ],
)
def test_a_trip_still_in_trouble_told_in_german_or_french_is_under_time_pressure(
    classify: Classify, text: str
) -> None:
    decision = classify(text)
    assert decision.priority in ("high", "critical"), decision.reasons
    assert "a complaint about a past" not in _priority_reason(decision), decision.reasons


@pytest.mark.parametrize(
    "text",
    [
        "@OurBus 车满了司机不让我们上车，车开走了，我们还在奥尔巴尼车站",
        "@OurBus オールバニ行きのバスが時間より早く出発してしまいました。まだ乗り場にいます。",
    ],
)
def test_riders_refused_or_left_at_the_stop_now_are_still_stranded(classify: Classify, text: str) -> None:
    decision = classify(text)
    assert decision.category in ("complaint", "query"), decision.reasons
    assert decision.priority == "critical", decision.reasons
