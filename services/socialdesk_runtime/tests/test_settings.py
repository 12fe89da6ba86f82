"""Settings fail fast with the environment variable names an operator must set."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from socialdesk_runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]


def test_a_service_without_its_settings_stops_with_a_clear_message() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_DATABASE_URL") and k != "KAFKA_BOOTSTRAP_SERVERS"
    }
    env["INGEST_HTTP_PORT"] = "not-a-port"
    result = subprocess.run(
        [sys.executable, "-m", "socialdesk_ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "KAFKA_BOOTSTRAP_SERVERS" in result.stderr
    assert "INGEST_DATABASE_URL" in result.stderr
    assert "INGEST_HTTP_PORT" in result.stderr
    assert "SOCIALDESK_CONFIG" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_configuration_file_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nbrands: []\nagents: []\nintake: {}\n")
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "INGEST_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/x",
        "SOCIALDESK_CONFIG": str(bad),
    }
    result = subprocess.run(
        [sys.executable, "-m", "socialdesk_ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "bad.yaml:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_inbox_must_remember_events_as_long_as_an_outbox_may_republish_them() -> None:
    base = {
        "kafka_bootstrap_servers": "127.0.0.1:9092",
        "database_url": "postgresql+asyncpg://u@h/db",
        "SOCIALDESK_CONFIG": "socialdesk.yaml",
        "http_port": 8080,
    }
    with pytest.raises(ValidationError, match="inbox_retention_seconds must be at least"):
        ServiceSettings.model_validate(
            {**base, "outbox_retention_seconds": 10 * 86400, "inbox_retention_seconds": 9 * 86400}
        )
    ok = ServiceSettings.model_validate(base)
    assert ok.inbox_retention_seconds >= ok.outbox_retention_seconds
