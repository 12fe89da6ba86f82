"""What the supervisor is told (how to run a service, how to restart it) and what it reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

__all__ = ["RestartPolicy", "ServiceSpec", "ServiceStatus"]


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """How to run one service: its command, extra environment and readiness probe."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    ready_url: str | None = None
    cwd: Path | None = None


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Exponential backoff between restarts, reset once a process has stayed up a while.

    A crash loop (bad configuration, port in use) must not spin the CPU or flood the
    log; a service that crashes once a day must come back at once.
    """

    initial_backoff_s: float = 0.5
    max_backoff_s: float = 15.0
    reset_after_s: float = 30.0

    def backoff(self, consecutive_failures: int) -> float:
        return float(min(self.max_backoff_s, self.initial_backoff_s * 2 ** max(0, consecutive_failures - 1)))


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """A snapshot of one supervised service (for the dashboard and tests)."""

    name: str
    pid: int | None
    running: bool
    restarts: int
    last_exit_code: int | None
    held: bool
    """Stopped on purpose (``kill``/``stop_service``): not restarted automatically."""
    next_restart_in_s: float | None
    started_at: datetime | None
