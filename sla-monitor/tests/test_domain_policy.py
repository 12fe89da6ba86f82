"""The policy's arithmetic and the ladder, on configuration data alone (no database)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialdesk_runtime.config import SocialdeskConfig, load_config
from socialdesk_schemas import LADDER
from socialdesk_sla_monitor.domain import (
    breach_from,
    escalation_target,
    is_open,
    next_rung,
    target_seconds,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "config" / "socialdesk.example.yaml"

# One brand with a short ladder (L1, L3, L4): L2 is off it.
SHORT_LADDER = textwrap.dedent(
    """\
    version: 1
    brands:
      - id: ourbus
        name: OurBus
        escalation_ladder: [L1, L3, L4]
        slack_channels: {L1: C0OURBUSL1, L3: C0OURBUSL3, L4: C0OURBUSL4}
    agents:
      - {id: ana, name: Ana, brands: [ourbus], level: L1}
      - {id: farah, name: Farah, brands: [ourbus], level: L3, online: false}
    intake:
      api_keys_env: INGEST_API_KEYS
    sla:
      first_response_seconds: 2
    """
)


@pytest.fixture(scope="module")
def example() -> SocialdeskConfig:
    return load_config(EXAMPLE, env={})


@pytest.fixture
def short(tmp_path: Path) -> SocialdeskConfig:
    path = tmp_path / "socialdesk.yaml"
    path.write_text(SHORT_LADDER, encoding="utf-8")
    return load_config(path, env={})


# --- SLA targets ------------------------------------------------------------------------


def test_first_response_targets_of_the_example(example: SocialdeskConfig) -> None:
    sla = example.sla
    assert target_seconds(sla, "first_response", "medium", "facebook") == 7200
    assert target_seconds(sla, "first_response", "critical", "facebook") == 900
    assert target_seconds(sla, "first_response", "high", "instagram") == 3600


def test_overrides_take_the_stricter_and_hot_topics_tighten(example: SocialdeskConfig) -> None:
    sla = example.sla
    assert target_seconds(sla, "first_response", "medium", "x") == 3600  # platform override
    assert target_seconds(sla, "first_response", "critical", "x") == 900  # both apply: the shorter
    assert target_seconds(sla, "first_response", "medium", "facebook", hot_topic=True) == 3600
    assert target_seconds(sla, "resolution", "low", "whatsapp") == 172800


def test_targets_may_be_seconds_for_tests(short: SocialdeskConfig) -> None:
    assert target_seconds(short.sla, "first_response", "medium", "generic") == 2.0
    assert target_seconds(short.sla, "next_response", "medium", "generic") == 7200.0  # the default


# --- business hours ---------------------------------------------------------------------


def test_business_calendar_is_open_in_its_own_timezone(example: SocialdeskConfig) -> None:
    calendar = example.sla.calendars[example.brand("rally").business_hours]
    assert is_open(calendar, datetime(2026, 6, 3, 16, 0, tzinfo=UTC))  # Wed 12:00 in New York
    assert not is_open(calendar, datetime(2026, 6, 3, 4, 0, tzinfo=UTC))  # Wed 00:00 in New York
    assert is_open(calendar, datetime(2026, 6, 6, 3, 59, tzinfo=UTC))  # Fri 23:59, open to 24:00
    assert not is_open(calendar, datetime(2026, 12, 25, 17, 0, tzinfo=UTC))  # holiday


def test_a_naive_instant_is_refused(example: SocialdeskConfig) -> None:
    calendar = next(iter(example.sla.calendars.values()))
    with pytest.raises(ValueError, match="aware"):
        is_open(calendar, datetime(2026, 6, 3, 16, 0))


# --- the ladder -------------------------------------------------------------------------


def test_escalation_walks_up_the_ladder(example: SocialdeskConfig) -> None:
    assert [escalation_target(example, "ourbus", lvl)[0] for lvl in (None, *LADDER)] == [
        "L1",
        "L2",
        "L3",
        "L4",
        "TMT",
        "TMT",  # nowhere above the top: it stays there
    ]
    level, lead = escalation_target(example, "ourbus", "L2")
    assert (level, lead and lead.id) == ("L3", "ourbus-farah")
    level, lead = escalation_target(example, "rally", "L1")
    # rally's only online L2 is kai; elena (both brands, L2) is offline and listed first.
    assert (level, lead and lead.id) == ("L2", "rally-kai")
    assert escalation_target(example, "rally", "L4")[1] is not None


def test_escalation_skips_levels_missing_from_a_short_ladder(short: SocialdeskConfig) -> None:
    level, agent = escalation_target(short, "ourbus", "L1")
    # farah is offline but the only L3: the brand lead still owns the breach.
    assert (level, agent and agent.id) == ("L3", "farah")
    assert escalation_target(short, "ourbus", "L2")[0] == "L3"  # L2 is off the ladder: next rung up
    assert escalation_target(short, "ourbus", "L4") == ("L4", None)  # the top, unstaffed
    assert next_rung(["L1", "L3", "L4"], "TMT") == "L4"  # above the brand's top: its top again


def test_an_unknown_brand_is_a_bug_upstream(example: SocialdeskConfig) -> None:
    with pytest.raises(KeyError, match="unknown brand 'nope'"):
        escalation_target(example, "nope", "L1")


def test_a_breach_from_working_levels_goes_to_the_brand_lead(example: SocialdeskConfig) -> None:
    for owner in (None, "L1", "L2"):
        assert escalation_target(example, "ourbus", breach_from(owner))[0] == "L3"


def test_a_breach_of_a_lead_owned_ticket_goes_up_one_rung(example: SocialdeskConfig) -> None:
    assert escalation_target(example, "ourbus", breach_from("L3"))[0] == "L4"
    assert escalation_target(example, "ourbus", breach_from("L4"))[0] == "TMT"
