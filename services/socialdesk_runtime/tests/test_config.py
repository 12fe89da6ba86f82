"""The deployment file: the example loads, and mistakes are refused at the right line."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import get_args

import pytest

from socialdesk_runtime.config import (
    LEVELS,
    ConfigError,
    Level,
    SocialdeskConfig,
    load_config,
)
from socialdesk_schemas import LADDER, TicketEscalated

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "config" / "socialdesk.example.yaml"

# A small but complete file; tests edit it to introduce one mistake at a time. Line
# numbers in assertions are counted in this text (line 1 is "version: 1").
MINIMAL = textwrap.dedent(
    """\
    version: 1
    brands:
      - id: ourbus
        name: OurBus
        slack_channels:
          L1: C0OURBUSL1
          L3: C0OURBUSL3
          L4: C0OURBUSL4
    agents:
      - id: ana
        name: Ana
        brands: [ourbus]
        level: L1
        token_env: AGENT_ANA_TOKEN
      - id: ben
        name: Ben
        brands: [ourbus]
        level: L1
        online: false
      - id: farah
        name: Farah
        brands: [ourbus]
        level: L3
    intake:
      api_keys_env: INGEST_API_KEYS
    """
)


def write(tmp_path: Path, text: str, name: str = "socialdesk.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edit(text: str, old: str, new: str) -> str:
    """``text.replace`` that fails loudly, so a test never checks an unedited file."""
    assert old in text, f"{old!r} not in the file"
    return text.replace(old, new)


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return str(info.value)


@pytest.fixture(scope="module")
def example() -> SocialdeskConfig:
    return load_config(EXAMPLE, env={})


# --- the example a customer copies --------------------------------------------------------


def test_example_describes_both_brands_with_a_full_ladder(example: SocialdeskConfig) -> None:
    # The rules over this data (who is next, which channel, which target) are each
    # service's domain and tested there; here: the example a customer copies is complete.
    assert [b.id for b in example.brands] == ["ourbus", "rally"]
    for brand in example.brands:
        staff = [a for a in example.agents if brand.id in a.brands]
        assert {a.level for a in staff} == set(LEVELS)
        assert any(not a.online for a in staff), f"{brand.id} should show an offline agent"
        assert brand.escalation_ladder == list(LEVELS)
    assert example.sla.first_response_seconds == 7200
    assert example.intake.api_keys_env == "INGEST_API_KEYS"
    marketing = {cue for cues in example.routing.marketing_cues.values() for cue in cues}
    assert {"collab", "sponsorship", "giveaway", "colaboración", "patrocinio"} <= marketing
    for key in ("luggage_policy", "pets_policy", "wifi_power", "find_ticket", "refund_policy"):
        reply = example.saved_replies[key]
        assert reply.text["en"] != reply.text["es"]


def test_levels_match_the_event_contract() -> None:
    # TicketEscalated.to_level is what travels on the wire; the config must use the same set.
    assert get_args(Level) == get_args(TicketEscalated.model_fields["to_level"].annotation)
    assert LEVELS == LADDER


# --- look-ups the services rely on -------------------------------------------------------


def test_sla_accepts_seconds_for_tests(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL + "sla:\n  first_response_seconds: 2\n"))
    assert cfg.sla.first_response_seconds == 2.0


def test_a_desk_session_lasts_12_hours_idle_and_7_days_at_most_unless_told(tmp_path: Path) -> None:
    sessions = load_config(write(tmp_path, MINIMAL)).desk.sessions
    assert (sessions.idle_seconds, sessions.lifetime_seconds) == (12 * 3600, 7 * 24 * 3600)
    message = refused(
        tmp_path, MINIMAL + "desk:\n  sessions:\n    idle_seconds: 90000\n    lifetime_seconds: 3600\n"
    )
    assert "desk.sessions: " in message
    assert "idle_seconds (90000) is longer than lifetime_seconds (3600)" in message


def test_the_desks_public_url_is_an_origin_written_as_a_browser_sends_it(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MINIMAL)).desk.public_url is None
    for given, origin in (
        ("https://Desk.OurBus.example/", "https://desk.ourbus.example"),
        ("https://desk.ourbus.example:443", "https://desk.ourbus.example"),
        ("http://10.0.0.7:8083", "http://10.0.0.7:8083"),
        ("https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"),
    ):
        cfg = load_config(write(tmp_path, MINIMAL + f"desk:\n  public_url: {given!r}\n"))
        assert cfg.desk.public_url == origin, given
    for wrong in (
        "desk.ourbus.example",
        "ftp://desk.example",
        "https://desk.example/desk",
        "https://a@b.example",
    ):
        message = refused(tmp_path, MINIMAL + f"desk:\n  public_url: {wrong!r}\n")
        assert "desk.public_url: " in message and "not an origin such as" in message, wrong


# --- secrets -------------------------------------------------------------------------------


def test_secret_is_read_from_the_given_env_never_from_the_file(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, MINIMAL),
        env={"AGENT_ANA_TOKEN": "s3cret", "INGEST_API_KEYS": "k1, k2,,", "EMPTY": ""},
    )
    assert cfg.secret(cfg.agent("ana").token_env or "") == "s3cret"
    assert cfg.intake_api_keys() == frozenset({"k1", "k2"})
    assert cfg.secret("EMPTY") is None
    assert cfg.secret("SLACK_BOT_TOKEN") is None
    assert "slack.token_env: SLACK_BOT_TOKEN" in cfg.missing_secrets()


def test_secret_reads_os_environ_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(write(tmp_path, MINIMAL))
    monkeypatch.delenv("AGENT_ANA_TOKEN", raising=False)
    assert cfg.secret("AGENT_ANA_TOKEN") is None
    monkeypatch.setenv("AGENT_ANA_TOKEN", "rotated")
    assert cfg.secret("AGENT_ANA_TOKEN") == "rotated"


def test_a_pasted_secret_is_refused_without_being_echoed(tmp_path: Path) -> None:
    message = refused(tmp_path, edit(MINIMAL, "token_env: AGENT_ANA_TOKEN", "token_env: xoxb-123-abc"))
    assert "socialdesk.yaml:14: agents[0].token_env: must be the NAME of an environment variable" in message
    assert "xoxb-123-abc" not in message


# --- refusals name the line and the field -------------------------------------------------


def test_wrong_level_names_line_and_field(tmp_path: Path) -> None:
    message = refused(tmp_path, edit(MINIMAL, "    level: L3\n", "    level: L5\n"))
    assert "socialdesk.yaml:23: agents[2].level: Input should be 'L1', 'L2', 'L3', 'L4' or 'TMT'" in message


def test_unknown_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    message = refused(tmp_path, edit(MINIMAL, "    online: false\n", "    onlien: false\n"))
    assert "socialdesk.yaml:19: agents[1].onlien: unknown key 'onlien' (did you mean 'online'?)" in message


def test_unknown_top_level_section_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, MINIMAL + "teams: []\n")
    assert "socialdesk.yaml:26: teams: unknown key 'teams'" in message


def test_brand_without_an_l3_lead_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, edit(MINIMAL, "    level: L3\n", "    level: L4\n"))
    assert "socialdesk.yaml:3: brands[0]: brand 'ourbus' has no L3 agent" in message


def test_every_problem_is_listed_in_line_order(tmp_path: Path) -> None:
    text = edit(
        edit(MINIMAL, "L4: C0OURBUSL4", "L4: '#ourbus-managers'"),
        "brands: [ourbus]\n    level: L1\n    online",
        "brands: [ourbus, rallly]\n    level: L1\n    online",
    )
    text = edit(text, "  - id: farah", "  - id: ana")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    problems = info.value.problems
    assert len(problems) == 1  # field errors first: cross checks only run on a well-formed file
    assert problems[0].endswith(
        "socialdesk.yaml:8: brands[0].slack_channels.L4: '#ourbus-managers' is not a Slack channel id: "
        "use the id shown in the channel's details "
        "(C or G then capitals and digits, e.g. C0OURBUSL3), not its #name"
    )

    text = edit(text, "'#ourbus-managers'", "C0OURBUSL4")
    lines = refused(tmp_path, text).splitlines()[1:]
    assert [line.strip().removeprefix(f"{tmp_path}/").split(": ", 2)[:2] for line in lines] == [
        ["socialdesk.yaml:17", "agents[1].brands[1]"],
        ["socialdesk.yaml:20", "agents[2].id"],
    ]


def test_sla_override_for_an_unknown_priority_is_refused(tmp_path: Path) -> None:
    text = MINIMAL + "sla:\n  by_priority:\n    urgent:\n      first_response_seconds: 60\n"
    message = refused(tmp_path, text)
    assert "socialdesk.yaml:28: sla.by_priority.urgent (key): Input should be 'critical'" in message


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, edit(MINIMAL, "      L4: C0OURBUSL4\n", "      L1: C0OURBUSL4\n"))
    assert "socialdesk.yaml:8: L1: duplicate key (first on line 6)" in message


def test_missing_required_section_is_reported(tmp_path: Path) -> None:
    message = refused(tmp_path, edit(MINIMAL, "intake:\n  api_keys_env: INGEST_API_KEYS\n", ""))
    assert "socialdesk.yaml:1: intake: Field required" in message


def test_text_that_is_not_yaml_names_the_line(tmp_path: Path) -> None:
    broken = edit(MINIMAL, "    name: Ben\n", "    name: Ben\n   brands: [ourbus\n")
    message = refused(tmp_path, broken)
    assert "not valid YAML" in message
    assert "socialdesk.yaml:17:" in message or "socialdesk.yaml:18:" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "socialdesk.yaml:1: the file is empty"),
        ("- just\n- a list\n", "socialdesk.yaml:1: the top level must be a mapping"),
        ("a: 1\n---\nb: 2\n", "not valid YAML"),
        ("brands: !!python/object:os.system {}\n", "socialdesk.yaml:1: not valid YAML"),
    ],
)
def test_files_that_are_not_a_configuration(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in refused(tmp_path, text)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.yaml")


def test_the_loaded_config_cannot_be_changed(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ValueError, match="frozen"):
        cfg.agents[0].online = False  # type: ignore[misc]  # proving that it is refused
