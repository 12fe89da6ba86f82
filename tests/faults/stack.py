"""The real embedded stack, owned whole by one fault scenario, with the knobs to hurt it.

Its own broker (restartable on its port), its own PostgreSQL server (restartable on its
port and data), the Slack fake, and the five services as processes under the supervisor.
Nothing is shared with other tests: a fault here must not reach them.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres
from socialdesk_runtime.stack.services import StackEndpoints, service_specs
from socialdesk_runtime.stack.supervisor import RestartPolicy, Supervisor
from tests.fakes.slack import FakeSlack
from tests.fakes.x import FakeX
from tests.stack_support import service_databases, service_ports
from tests.support import TEST_CONFIG, TEST_ENV

__all__ = ["SLACK_CHANNELS", "X_TOKEN", "FaultStack", "fault_stack"]

SLACK_TOKEN = "xoxb-faults"
X_TOKEN = "x-user-faults"
X_USER = "3300112233"  # OurBus's X account in the test configuration
SLACK_CHANNELS = ["C0OBL1", "C0OBLEAD", "C0OBMGR", "C0TMT", "C0OBWARN", "C0RALEAD", "C0RAWARN"]


@dataclass
class FaultStack:
    root: Path
    kafka: EmbeddedKafka
    postgres: EmbeddedPostgres
    slack: FakeSlack
    x: FakeX
    """X's send API: agents' replies to the customers (X DMs) go out through it."""
    supervisor: Supervisor
    ports: dict[str, int]

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    @property
    def log_files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*.log") if p.is_file())

    # --- faults -------------------------------------------------------------------------
    def kill_broker_and_restart_empty(self) -> None:
        """SIGKILL the broker (memory storage: everything gone), start it again on its port.

        What ``make run``'s launcher does (:func:`keep_broker_up`): topics first, a new
        cluster id, then the services' relays republish what it had acknowledged.
        """
        self.kafka.kill()
        self.kafka.restart()

    @contextmanager
    def broker_stalled(self) -> Iterator[None]:
        """SIGSTOP the broker for the ``with`` body, then SIGCONT: alive, silent, then back."""
        pid = self.kafka.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def restart_postgres(self) -> None:
        """SIGKILL PostgreSQL and start it again on the same port and data (crash recovery)."""
        self.postgres.kill()
        self.postgres.start()

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        self.supervisor.wait_ready(timeout_s=timeout_s)


def _config(root: Path) -> Path:
    """The test configuration with OurBus's X account able to send (a user-context token)."""
    data: dict[str, Any] = yaml.safe_load(TEST_CONFIG.read_text())
    data["brands"][0]["accounts"]["x"]["bearer_token_env"] = "FAULTS_X_TOKEN"
    path = root / "socialdesk.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@contextmanager
def fault_stack(
    *, extra_env: dict[str, str] | None = None, x_options: dict[str, Any] | None = None
) -> Iterator[FaultStack]:
    """``x_options`` go to the X fake (``dm_limit``, ``window_seconds``: its rate limits)."""
    root = Path(tempfile.mkdtemp(prefix="socialdesk-faults-"))
    kafka = EmbeddedKafka(log_path=root / "tansu.log")
    # Durable, as in production: with synchronous_commit off a crash forgets the last
    # commits, and intake would have acknowledged messages the database no longer has.
    postgres = EmbeddedPostgres(root / "pgdata", durable=True, log_path=root / "postgres.log")
    slack = FakeSlack(token=SLACK_TOKEN, channels=SLACK_CHANNELS)
    # Generous limits unless a scenario throttles: X's real DM limit would stretch a replay.
    x = FakeX(user_token=X_TOKEN, user_id=X_USER, **{"dm_limit": 100_000, **(x_options or {})})
    supervisor: Supervisor | None = None
    try:
        kafka.start()
        postgres.start()
        urls = service_databases(postgres, "faults")
        ports = service_ports()
        slack.start()
        x.start()
        env = {
            **TEST_ENV,
            "TEST_SLACK_TOKEN": SLACK_TOKEN,
            "NOTIFIER_SLACK_BASE_URL": slack.base_url,
            "NOTIFIER_X_BASE_URL": x.url,
            "FAULTS_X_TOKEN": X_TOKEN,
            "NOTIFIER_DELIVERY_LEASE_SECONDS": "3",
            "NOTIFIER_LOCAL_SINK_PATH": str(root / "sink.jsonl"),
            "SLA_MONITOR_MAX_IDLE_SECONDS": "0.2",
            "LOG_LEVEL": "INFO",
            **(extra_env or {}),
        }
        specs = service_specs(
            StackEndpoints(kafka=kafka.bootstrap_servers, database_urls=urls),
            config_path=_config(root),
            http_ports=ports,
            extra_env=env,
        )
        supervisor = Supervisor(specs, log_dir=root / "logs", policy=RestartPolicy(initial_backoff_s=0.2))
        supervisor.start()
        stack = FaultStack(root, kafka, postgres, slack, x, supervisor, ports)
        stack.wait_ready()
        yield stack
    finally:
        if supervisor is not None:
            supervisor.stop()
        slack.stop()
        x.stop()
        postgres.stop()
        kafka.stop()
        if os.environ.get("SOCIALDESK_FAULTS_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"fault stack kept in {root}")


def settle(seconds: float) -> None:
    """Let a fault last ``seconds`` (the fault's duration, not a wait for an outcome)."""
    time.sleep(seconds)
