"""The fault suite: the real embedded stack, hurt on purpose, then judged by the checker.

``make faults`` runs it whole (``SOCIALDESK_FAULTS=full``: 100+ kill cycles, a 30 s broker
stall, a 10 minute Slack outage). A plain ``pytest`` (``make test``) runs only the tests
marked ``faults_ci``, at a small scale, so CI keeps them fixed within a few minutes.
Each scenario prints its counts; the run ends with one summary line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.faults.checker import Verdict

FULL = os.environ.get("SOCIALDESK_FAULTS") == "full"
VERDICTS: list[Verdict] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: a fault scenario on the real stack (make faults)")
    config.addinivalue_line("markers", "faults_ci: the fault scenarios make test runs, at a small scale")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FULL:
        return
    skip = pytest.mark.skip(reason="runs in `make faults` (SOCIALDESK_FAULTS=full)")
    for item in items:
        if item.get_closest_marker("faults") and not item.get_closest_marker("faults_ci"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not VERDICTS:
        return
    terminalreporter.section("fault suite")
    for v in VERDICTS:
        terminalreporter.write_line(v.line())
    lost = sum(v.lost for v in VERDICTS)
    doubled = sum(v.doubled for v in VERDICTS)
    accepted = sum(v.accepted for v in VERDICTS)
    terminalreporter.write_line(
        f"faults summary: {len(VERDICTS)} faults, {accepted} messages accepted, {lost} lost, {doubled} doubled"
    )


@pytest.fixture
def record_verdict() -> Iterator[list[Verdict]]:
    got: list[Verdict] = []
    yield got
    VERDICTS.extend(got)
