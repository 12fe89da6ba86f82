"""The operator's one command line mounts every service's commands."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from socialdesk_cli import app, main

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "config" / "socialdesk.example.yaml"


def test_every_operator_command_is_mounted() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("config", "republish", "replay", "deliveries", "outbox"):
        assert command in result.output
    outbox = CliRunner().invoke(app, ["outbox", "--help"])
    assert "refused" in outbox.output and "retry" in outbox.output
    deliveries = CliRunner().invoke(app, ["deliveries", "--help"])
    assert "redrive" in deliveries.output and "failed" in deliveries.output


def test_config_check_through_the_one_command(tmp_path: Path) -> None:
    assert main(["config", "check", str(EXAMPLE)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nbrands: []\nagnets: []\n")
    assert main(["config", "check", str(bad)]) == 1


def test_a_wrong_command_line_is_exit_2() -> None:
    assert main(["replay"]) == 2  # --since is required
