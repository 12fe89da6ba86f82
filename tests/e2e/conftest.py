"""The five services as processes, on their own broker, against the Slack fake."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres
from socialdesk_runtime.stack.services import StackEndpoints, service_specs
from socialdesk_runtime.stack.supervisor import RestartPolicy, Supervisor
from tests.e2e.freshdesk_stack import FdStack, started_fd_stack
from tests.fakes.slack import FakeSlack
from tests.stack_support import service_databases, service_ports
from tests.support import TEST_CONFIG, TEST_ENV

SLACK_TOKEN = "xoxb-e2e"


@dataclass
class Stack:
    supervisor: Supervisor
    slack: FakeSlack
    ports: dict[str, int]
    log_dir: Path
    kafka_bootstrap: str = ""

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def logs(self, service: str) -> str:
        path = self.supervisor.log_path(service)
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@pytest.fixture(scope="session")
def stack(postgres: EmbeddedPostgres) -> Iterator[Stack]:
    # Its own broker: the session broker holds other tests' records, which the services'
    # consumer groups would otherwise read from the beginning.
    root = Path(tempfile.mkdtemp(prefix="socialdesk-e2e-"))
    kafka = EmbeddedKafka(log_path=root / "tansu.log")
    kafka.start()
    urls = service_databases(postgres, "e2e")
    ports = service_ports()
    slack = FakeSlack(
        token=SLACK_TOKEN,
        channels=["C0OBL1", "C0OBLEAD", "C0OBMGR", "C0TMT", "C0OBWARN", "C0RALEAD", "C0RAWARN"],
    )
    slack.start()
    env = {
        **TEST_ENV,
        "TEST_SLACK_TOKEN": SLACK_TOKEN,
        "NOTIFIER_SLACK_BASE_URL": slack.base_url,
        # The test configuration carries platform tokens: the session stack must never
        # call the real Graph or X API (tests that need them start their own fakes).
        "NOTIFIER_GRAPH_BASE_URL": "http://127.0.0.1:9",
        "NOTIFIER_X_BASE_URL": "http://127.0.0.1:9",
        "NOTIFIER_DELIVERY_LEASE_SECONDS": "3",
        "NOTIFIER_LOCAL_SINK_PATH": str(root / "sink.jsonl"),
        "SLA_MONITOR_MAX_IDLE_SECONDS": "0.2",
        "LOG_LEVEL": "INFO",
    }
    specs = service_specs(
        StackEndpoints(kafka=kafka.bootstrap_servers, database_urls=urls),
        config_path=TEST_CONFIG,
        http_ports=ports,
        extra_env=env,
    )
    supervisor = Supervisor(specs, log_dir=root / "logs", policy=RestartPolicy(initial_backoff_s=0.2))
    supervisor.start()
    stack = Stack(supervisor, slack, ports, root / "logs", kafka.bootstrap_servers)
    try:
        supervisor.wait_ready(timeout_s=90)
        yield stack
    finally:
        supervisor.stop()
        slack.stop()
        kafka.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def intake(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.url("ingest", ""), headers={"X-API-Key": "key-one"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
def desk(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url("assigner", ""), timeout=10) as client:
        yield client


@pytest.fixture(scope="package")
def fd_stack(postgres: EmbeddedPostgres) -> Iterator[FdStack]:
    """The Freshdesk stack (tests/e2e/freshdesk_stack.py), shared by the Freshdesk modules."""
    with started_fd_stack(postgres) as stack:
        yield stack
