"""The five services as the stack runs them: module, database, env prefix, HTTP port.

The launcher starts services *by name* as processes (``python -m socialdesk_<name>``)
and never imports them: the runtime must not depend on any service (import-linter
contract). Everything a service needs arrives through its environment, exactly as it
would in production.

Usage (what the end-to-end tests do)::

    specs = service_specs(
        StackEndpoints(kafka=kafka.bootstrap_servers,
                       database_urls={s.name: postgres.url(s.database) for s in STACK_SERVICES}),
        config_path=Path("deploy/config/socialdesk.example.yaml"),
        extra_env={"INGEST_API_KEYS": "test-key"},
    )
    with Supervisor(specs, log_dir=tmp_path / "logs") as sup:
        sup.wait_ready()
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from socialdesk_runtime.stack.specs import ServiceSpec

__all__ = ["STACK_SERVICES", "StackEndpoints", "StackService", "service_specs"]


@dataclass(frozen=True, slots=True)
class StackService:
    """One service's names: the same name everywhere, spelled as each place allows."""

    name: str  # as in socialdesk_schemas.topics.SERVICES, e.g. "sla-monitor"
    module: str  # python -m <module>
    database: str  # its own database on the shared server
    env_prefix: str  # its pydantic-settings prefix
    default_http_port: int

    @property
    def database_url_env(self) -> str:
        return f"{self.env_prefix}DATABASE_URL"

    @property
    def http_port_env(self) -> str:
        return f"{self.env_prefix}HTTP_PORT"


def _service(name: str, port: int) -> StackService:
    snake = name.replace("-", "_")
    return StackService(name, f"socialdesk_{snake}", snake, f"{snake.upper()}_", port)


#: Start order matters little (they talk through topics), but upstream first makes the
#: logs read in the direction a message travels.
STACK_SERVICES: tuple[StackService, ...] = (
    _service("ingest", 8081),
    _service("classifier", 8082),
    _service("assigner", 8083),
    _service("sla-monitor", 8084),
    _service("notifier", 8085),
)


@dataclass(frozen=True, slots=True)
class StackEndpoints:
    """Where the services find the broker and their databases."""

    kafka: str
    database_urls: Mapping[str, str]  # service name -> SQLAlchemy URL


def service_specs(
    endpoints: StackEndpoints,
    *,
    config_path: Path,
    http_ports: Mapping[str, int] | None = None,
    extra_env: Mapping[str, str] | None = None,
    python: str = sys.executable,
    services: tuple[StackService, ...] = STACK_SERVICES,
) -> list[ServiceSpec]:
    """A :class:`ServiceSpec` per service with the environment its settings read.

    ``http_ports`` overrides the default ports per service name (tests pick free ones).
    ``extra_env`` is added to every service (API keys, agent tokens, Slack base URL...).
    """
    specs: list[ServiceSpec] = []
    for svc in services:
        if svc.name not in endpoints.database_urls:
            raise ValueError(f"no database URL for {svc.name}")
        port = (http_ports or {}).get(svc.name, svc.default_http_port)
        env = {
            **(extra_env or {}),
            "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka,
            svc.database_url_env: endpoints.database_urls[svc.name],
            svc.http_port_env: str(port),
            "SOCIALDESK_CONFIG": str(config_path.resolve()),
            "SOCIALDESK_SERVICE": svc.name,
        }
        specs.append(
            ServiceSpec(
                name=svc.name,
                argv=(python, "-m", svc.module),
                env=env,
                ready_url=f"http://127.0.0.1:{port}/readyz",
            )
        )
    return specs
