"""notifier's settings (environment, prefix ``NOTIFIER_``)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8085, ge=0, le=65535)
    # Where deliveries go when no Slack token is configured (clearly labelled, JSON lines).
    local_sink_path: Path = Path(".socialdesk/local-sink.jsonl")
    # A claimed delivery not finished within the lease is presumed abandoned by a dead
    # process; before re-sending it, the notifier checks whether it went out after all.
    delivery_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    max_attempts: int = Field(default=8, ge=1, le=100)
    # Overrides the configuration's slack.base_url (a Slack-compatible endpoint, e.g. a test fake).
    slack_base_url: str | None = None
    poll_seconds: float = Field(default=0.5, gt=0, le=60)
