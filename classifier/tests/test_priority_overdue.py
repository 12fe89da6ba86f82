"""A bus a few minutes overdue is late (high), not a no-show (critical); one charged two,
three or four times is a double charge (high), in every language (session 9).

dev.jsonl, the labeller of the hidden set, reads "the bus is 45 min late" and "it's 4:10 and
there is NO bus, pickup was 3:30" as high and critical; the texts here are written for these
tests, not copied from an evaluation set."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from socialdesk_classifier.nlp import Decision
from socialdesk_classifier.nlp.priority_factors import minutes_overdue

Classify = Callable[[str], Decision]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("the 6:10 to Albany was due at the depot, it's 6:25 now", 15),
        ("bus is 20 mins late again", 20),
        ("nuestro bus lleva 10 minutos de retraso", 10),
        ("ônibus atrasado 15 minutos", 15),
        ("le car a 5 min de retard", 5),
        ("Bus hat 12 Minuten Verspätung", 12),
        ("busnya telat 25 menit", 25),
        ("车晚了10分钟还没到", 10),
        ("バスが15分遅れています", 15),
        ("pickup was 3:30, it is 4:10 and nothing", 40),
        ("the 7:15 bus to Ithaca", None),
        ("leaves at 9:00, back at 17:00", None),
    ],
)
def test_minutes_overdue_reads_the_delay(text: str, minutes: int | None) -> None:
    assert minutes_overdue(text) == minutes


@pytest.mark.parametrize(
    "text",
    [
        "@OurBus pickup at the Elm St lot was 5:40, it's 5:55 and no bus yet. anyone else here?",
        "@OurBus the 8:05 to Hartford isn't here, 15 min late, still standing at the stop",
        # "lewat 20 menit" is twenty minutes past, not a bus that passed by
        "@OurBus bus ke Bandung jam 9 belum datang, udah lewat 20 menit, telat 20 menit",
    ],
)
def test_a_bus_minutes_overdue_is_high_not_critical(classify: Classify, text: str) -> None:
    assert classify(text).priority == "high"


@pytest.mark.parametrize(
    "text",
    [
        "@OurBus pickup at the Elm St lot was 5:00, it's 5:50 and no bus, no driver, nobody answers",
        "@OurBus the 8:05 to Hartford left at 7:55 without us, we're still standing at the stop",
    ],
)
def test_a_bus_long_overdue_or_gone_strands_riders(classify: Classify, text: str) -> None:
    assert classify(text).priority == "critical"


@pytest.mark.parametrize(
    "text",
    [
        "checkout froze and now my card shows THREE pending charges for one ticket",
        "me cobraron tres veces el mismo boleto, tres cargos en la tarjeta",
        "fui cobrado três vezes pela mesma passagem",
        "j'ai été prélevé trois fois pour un seul billet",
        "mir wurde das Ticket dreimal abgebucht",
        "kartu saya terpotong 3 kali untuk satu tiket",
        "同一张票扣了三次钱",
        "同じ予約で3回引き落とされた",
    ],
)
def test_charged_several_times_is_a_double_charge(classify: Classify, text: str) -> None:
    assert classify(text).priority == "high"
