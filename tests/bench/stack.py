"""The system under test: embedded Tansu + PostgreSQL and the five services as processes.

Started the way the end-to-end tests start it (``tests/e2e/conftest.py``), which is the
way ``make run`` starts it, so the figures are what a user of the embedded stack gets.
Only three things differ from the test configuration, each so that the benchmark
measures the intake → assignment path and nothing else:

- the first-response SLA is a day (no ``by_priority`` override), so no timer fires and no
  Slack traffic competes for the CPU during a run;
- every agent has a practically unlimited ``max_open_tickets``, so every CX ticket ends in
  ``TicketAssigned`` rather than ``TicketQueued`` once the few test agents are full;
- the notifier has no Slack token, so it would write to its local sink (it never does).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import yaml

from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres, free_port
from socialdesk_runtime.stack.services import STACK_SERVICES, StackEndpoints, service_specs
from socialdesk_runtime.stack.supervisor import Supervisor
from tests.support import TEST_CONFIG, TEST_ENV

__all__ = ["BenchStack", "bench_config"]

#: No ticket may reach its first-response deadline during a run.
_LONG_SLA_SECONDS = 86_400
#: Far above any run's ticket count: agents never fill up, so tickets are assigned.
_UNLIMITED_OPEN_TICKETS = 10_000_000


def bench_config(source: Path, target: Path) -> Path:
    """Write the test configuration with a day-long SLA and agents that never fill up."""
    data: dict[str, Any] = yaml.safe_load(source.read_text())
    data["sla"] = {**data.get("sla", {}), "first_response_seconds": _LONG_SLA_SECONDS}
    data["sla"].pop("by_priority", None)
    for agent in data.get("agents", []):
        agent["max_open_tickets"] = _UNLIMITED_OPEN_TICKETS
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return target


@dataclass
class BenchStack:
    """Broker, database server and services for one benchmark run; stops all on exit.

    Start in two steps so the raw broker rate is measured before any service polls it:
    :meth:`start_broker`, then :meth:`start_services`. ``__exit__`` stops whatever runs,
    also after a Ctrl-C half-way through start-up, and removes the temporary directory.
    """

    durable: bool = False
    service_env: Mapping[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="socialdesk-bench-")))
    kafka: EmbeddedKafka | None = None
    postgres: EmbeddedPostgres | None = None
    supervisor: Supervisor | None = None
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def bootstrap_servers(self) -> str:
        if self.kafka is None:
            raise RuntimeError("broker not started")
        return self.kafka.bootstrap_servers

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def start_broker(self) -> None:
        self.kafka = EmbeddedKafka(log_path=self.root / "tansu.log")
        self.kafka.start()

    def start_services(self, *, ready_timeout_s: float = 120.0) -> float:
        """Start PostgreSQL and the five services; return seconds until all were ready."""
        started = time.monotonic()
        # Directly under the temp dir: under root the server runs as a system user that
        # must traverse every parent (see tests/conftest.py).
        self.postgres = EmbeddedPostgres(
            self.root / "pg", durable=self.durable, log_path=self.root / "postgres.log"
        )
        self.postgres.start()
        suffix = uuid.uuid4().hex[:8]
        urls = {}
        for svc in STACK_SERVICES:
            name = f"bench_{svc.database}_{suffix}"
            self.postgres.create_database(name)
            urls[svc.name] = self.postgres.url(name)
        self.ports = {svc.name: free_port() for svc in STACK_SERVICES}
        config = bench_config(TEST_CONFIG, self.root / "socialdesk.bench.yaml")
        env = {
            **TEST_ENV,
            "NOTIFIER_LOCAL_SINK_PATH": str(self.root / "sink.jsonl"),
            **self.service_env,
        }
        specs = service_specs(
            StackEndpoints(kafka=self.bootstrap_servers, database_urls=urls),
            config_path=config,
            http_ports=self.ports,
            extra_env=env,
        )
        self.supervisor = Supervisor(specs, log_dir=self.root / "logs")
        self.supervisor.start()
        self.supervisor.wait_ready(timeout_s=ready_timeout_s)
        return time.monotonic() - started

    def service_pids(self) -> dict[str, int]:
        """The pid of every running process of the system under test, by role."""
        pids: dict[str, int] = {}
        if self.supervisor is not None:
            for name in self.supervisor.names():
                pid = self.supervisor.pid(name)
                if pid is not None:
                    pids[name] = pid
        if self.kafka is not None and self.kafka.pid is not None:
            pids["tansu"] = self.kafka.pid
        if self.postgres is not None and self.postgres.pid is not None:
            pids["postgres"] = self.postgres.pid
        return pids

    def log_tail(self, service: str, lines: int = 30) -> str:
        return self.supervisor.log_tail(service, lines) if self.supervisor is not None else ""

    def stop(self) -> None:
        """Services first (they drain into the broker and database), then the servers."""
        # Each step runs even if an earlier one fails or a second Ctrl-C arrives.
        try:
            if self.supervisor is not None:
                self.supervisor.stop()
        finally:
            try:
                if self.postgres is not None:
                    self.postgres.stop()
            finally:
                try:
                    if self.kafka is not None:
                        self.kafka.stop()
                finally:
                    with contextlib.suppress(OSError):
                        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def without_slack_token() -> None:
    """The notifier must use its local sink: no token may leak in from the caller's shell."""
    os.environ.pop("TEST_SLACK_TOKEN", None)
