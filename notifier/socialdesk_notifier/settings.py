"""notifier's settings (environment, prefix ``NOTIFIER_``)."""

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8085, ge=0, le=65535)
    # What is finished and this old is forgotten (socialdesk_notifier.retention), hourly.
    retention_seconds: float = Field(default=35 * 24 * 3600.0, ge=3600)
    retention_interval_seconds: float = Field(default=3600.0, gt=0, le=7 * 24 * 3600)
    # Off the intake → assignment path: fewer, fuller fetches (each costs the broker CPU
    # for every partition read); a page or a reply leaves at most 200 ms later.
    fetch_max_wait_ms: int = Field(default=200, ge=1, le=5_000)
    fetch_min_bytes: int = Field(default=64 * 1024, ge=1, le=50 * 1024 * 1024)
    # Where deliveries go when no Slack token is configured (clearly labelled, JSON lines).
    local_sink_path: Path = Path(".socialdesk/local-sink.jsonl")
    # A claimed delivery not finished within the lease is presumed abandoned by a dead
    # process; before re-sending it, the notifier checks whether it went out after all.
    delivery_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    # A delivery still failing (throttled, platform or Slack down) this long is given up on,
    # counted in notifier_delivery_failures_total and left for `socialdesk notifier redrive`.
    give_up_after_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    # Overrides the configuration's slack.base_url (a Slack-compatible endpoint, e.g. a test fake).
    slack_base_url: str | None = None
    poll_seconds: float = Field(default=0.5, gt=0, le=60)
    # Deliveries claimed (and sent concurrently) per round of the worker.
    delivery_batch: int = Field(default=50, ge=1, le=1000)
    # Platform send APIs (issue 10); tests and benchmarks point these at the local fakes.
    graph_base_url: str = "https://graph.facebook.com"
    graph_version: str = Field(default="v23.0", pattern=r"^v\d+\.\d+$")
    x_base_url: str = "https://api.x.com"
    # The pace per sending account (halved on each throttle, then recovering) and per
    # recipient, kept by all replicas together.
    platform_rate_per_second: float = Field(default=20.0, gt=0, le=1000)
    recipient_interval_seconds: float = Field(default=1.0, ge=0, le=3600)
    # How long an ambiguous platform send (timeout, 5xx, crash) waits for its echo through
    # ingest before it is presumed lost and sent again.
    echo_wait_seconds: float = Field(default=120.0, ge=0, le=86400)
    platform_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Slack (issue 11): links in messages point at the desk; posts per channel are spaced
    # (Slack allows ~1/s per channel) and chat.update calls kept within the workspace's
    # budget (Tier 3: about 50 a minute), by all replicas together; a flood of alerts over
    # the threshold in the window becomes one digest.
    desk_base_url: str = "http://127.0.0.1:8083"
    slack_channel_interval_seconds: float = Field(default=1.1, ge=1.0, le=60)
    slack_updates_per_minute: float = Field(default=50.0, gt=0, le=600)
    slack_digest_threshold: int = Field(default=10, ge=1, le=10_000)
    slack_digest_window_seconds: float = Field(default=60.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _deliveries_outlive_the_inbox(self) -> Self:
        if self.retention_seconds < self.inbox_retention_seconds:
            raise ValueError(
                "retention_seconds must be at least inbox_retention_seconds: a redelivered event "
                "still recognised must find its deliveries"
            )
        return self
