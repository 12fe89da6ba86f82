"""``socialdesk config check``: what an operator sees before deploying a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from socialdesk_runtime.cli import app, main

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "config" / "socialdesk.example.yaml"

runner = CliRunner()


def test_a_good_file_is_ok_and_unset_secrets_are_named() -> None:
    result = runner.invoke(app, ["config", "check", str(EXAMPLE)], env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert result.exit_code == 0, result.output
    assert "OK (2 brands, 14 agents)" in result.stdout
    assert "not set in this environment: intake.api_keys_env: INGEST_API_KEYS" in result.stdout
    assert "SLACK_BOT_TOKEN" not in result.stdout  # set in the environment: not reported


def test_a_bad_file_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nbrands: []\nagnets: []\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: agnets: unknown key 'agnets' (did you mean 'agents'?)" in result.stderr
    assert "OK" not in result.stdout


def test_a_wrong_command_line_exits_2() -> None:
    assert main(["config", "check"]) == 2
    assert main(["config", "check", str(EXAMPLE), "extra"]) == 2


def test_python_dash_m_config_delegates_to_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "socialdesk_runtime.config", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "OK (2 brands" in done.stdout


def test_republish_since_takes_an_iso_time_or_an_age() -> None:
    from datetime import UTC, datetime

    import pytest
    import typer

    from socialdesk_runtime.republish import parse_since

    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_since("90m", now=now) == datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
    assert parse_since("1d", now=now) == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-28T01:00Z", now=now) == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert parse_since("2026-11-28T01:00", now=now) == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    with pytest.raises(typer.BadParameter):
        parse_since("yesterday", now=now)


def test_republish_names_the_database_variables_it_needs() -> None:
    result = runner.invoke(
        app, ["republish", "--since", "1h", "--service", "notifier"], env={"NOTIFIER_DATABASE_URL": ""}
    )
    assert result.exit_code == 2
    assert "NOTIFIER_DATABASE_URL" in result.output


def test_outbox_retry_by_id_needs_exactly_one_service() -> None:
    result = runner.invoke(app, ["outbox", "retry", "--id", "3"])
    assert result.exit_code == 2
    assert "--id needs exactly one --service" in result.output
    result = runner.invoke(
        app, ["outbox", "retry", "--service", "ingest", "--service", "notifier", "--id", "3"]
    )
    assert result.exit_code == 2


def test_outbox_refused_names_the_database_variables_it_needs() -> None:
    result = runner.invoke(
        app, ["outbox", "refused", "--service", "notifier"], env={"NOTIFIER_DATABASE_URL": ""}
    )
    assert result.exit_code == 2
    assert "NOTIFIER_DATABASE_URL" in result.output
