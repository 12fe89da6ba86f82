"""Settings per service (pydantic-settings): built at start, never at import, failing fast.

Each service subclasses :class:`ServiceSettings` with its own ``env_prefix`` (``INGEST_``,
``SLA_MONITOR_``...). Shared values (the broker, the config file) have fixed names.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Self, TypeVar

import limits
from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings", "load_settings"]


class ServiceSettings(BaseSettings):
    """What every service needs to start. Required values have no default."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = Field(
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
        min_length=3,
        description="host:port[,host:port] of the Kafka cluster (or the embedded Tansu broker)",
    )
    database_url: str = Field(
        min_length=10,
        description="SQLAlchemy async URL of this service's own database, postgresql+asyncpg://...",
    )
    config_path: Path = Field(
        validation_alias=AliasChoices("SOCIALDESK_CONFIG"),
        description="path of the deployment's YAML configuration",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(ge=0, le=65535)
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL", "SOCIALDESK_LOG_LEVEL"))
    # Consumer tuning. A low fetch wait matters on Tansu: each hop otherwise waits ~half of it
    # (Tansu answers a fetch when it has fetch_min_bytes or the wait is over, not sooner).
    # Every fetch costs the broker CPU for each partition it names; a service off the
    # intake → assignment path may wait longer for fuller fetches (fewer of them).
    batch_max_records: int = Field(default=500, ge=1, le=10_000)
    fetch_max_wait_ms: int = Field(default=20, ge=1, le=5_000)
    fetch_min_bytes: int = Field(default=1, ge=1, le=50 * 1024 * 1024)
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_poll_seconds: float = Field(default=0.25, gt=0, le=60)
    # Published outbox rows are kept this long, so a broker that lost them can be given
    # them again (automatically, or by `socialdesk republish --since`).
    outbox_retention_seconds: float = Field(default=7 * 24 * 3600.0, ge=0)
    # Ids of processed events are kept this long to recognise a redelivery; at least as long
    # as any outbox keeps rows it may republish, so a republished event is still known.
    inbox_retention_seconds: float = Field(default=30 * 24 * 3600.0, ge=3600)
    broker_check_seconds: float = Field(default=2.0, gt=0, le=300)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    shutdown_grace_seconds: float = Field(default=10.0, gt=0, le=300)
    # Requests per client address on every public endpoint ("" turns it off), e.g.
    # "50/second" or "3000/minute". Generous by default: a platform delivers webhooks
    # from few addresses in bursts, and a refused delivery is only retried later.
    http_rate_limit: str = "2000/second"

    @field_validator("http_rate_limit")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        if value.strip():
            try:
                limits.parse(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a rate like 50/second or 3000/minute") from None
        return value.strip()

    @model_validator(mode="after")
    def _inbox_outlives_outbox(self) -> Self:
        if self.inbox_retention_seconds < self.outbox_retention_seconds:
            raise ValueError(
                "inbox_retention_seconds must be at least outbox_retention_seconds: an event "
                "republished from the outbox must still be recognised as processed"
            )
        return self


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """Build settings from the environment, or stop the process with a clear message.

    The message names the environment variables, not pydantic's field names, because
    that is what an operator has to set.
    """
    try:
        return cls()
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix") or "")
        lines = [f"{cls.__name__}: the service cannot start, its settings are invalid:"]
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            info = cls.model_fields.get(field)
            alias = info.validation_alias if info is not None else None
            if isinstance(alias, AliasChoices):
                env = " or ".join(str(c) for c in alias.choices)
            else:
                env = f"{prefix}{field}".upper()
            lines.append(f"  - {env}: {err['msg']}")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
