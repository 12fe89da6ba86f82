"""The checker's log grep finds what it looks for (a grep that cannot fail proves nothing)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

from tests.faults.checker import secrets_in_logs
from tests.faults.stack import FaultStack


def test_a_secret_written_to_any_log_is_found_and_named(tmp_path: Path) -> None:
    clean = tmp_path / "classifier.log"
    clean.write_text('{"level": "INFO", "message": "classified 12 messages"}\n')
    leaky = tmp_path / "logs" / "ingest.log"
    leaky.parent.mkdir()
    leaky.write_text('{"level": "DEBUG", "message": "headers {\'x-api-key\': \'key-two\'}"}\n')
    stack = cast(FaultStack, SimpleNamespace(log_files=[clean, leaky]))

    assert secrets_in_logs(stack) == ["ingest.log: TEST_INGEST_API_KEYS"]
    leaky.write_text("slack said ok to xoxb-faults\n")
    assert secrets_in_logs(stack) == ["ingest.log: TEST_SLACK_TOKEN"]
