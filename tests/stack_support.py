"""What every test stack of the five services as processes needs first: its own database per
service on the embedded PostgreSQL and a free HTTP port per service."""

from __future__ import annotations

import uuid

from socialdesk_runtime.embedded import EmbeddedPostgres, free_port
from socialdesk_runtime.stack.services import STACK_SERVICES

__all__ = ["service_databases", "service_ports"]


def service_databases(postgres: EmbeddedPostgres, prefix: str) -> dict[str, str]:
    """A fresh database per service (``<prefix>_<database>_<random>``), its URL by service."""
    suffix = uuid.uuid4().hex[:8]
    urls: dict[str, str] = {}
    for svc in STACK_SERVICES:
        name = f"{prefix}_{svc.database}_{suffix}"
        postgres.create_database(name)
        urls[svc.name] = postgres.url(name)
    return urls


def service_ports() -> dict[str, int]:
    """A free local port per service's HTTP server."""
    return {svc.name: free_port() for svc in STACK_SERVICES}
