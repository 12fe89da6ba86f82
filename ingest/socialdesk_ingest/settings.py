"""ingest's settings (environment, prefix ``INGEST_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", frozen=True)

    http_port: int = Field(default=8081, ge=0, le=65535)
    # Per client address. Platform webhooks arrive from a few addresses (Meta's and X's
    # egress, or one ingress proxy) and are authenticated by their signature; the ack
    # path takes ~2,000 signed deliveries/s on two cores, and the runtime's 2000/second
    # would refuse (429) the top of a burst that ingest can store. Still bounded.
    http_rate_limit: str = "10000/second"
    # A conversation silent this long starts a new ticket on its next message.
    conversation_idle_seconds: float = Field(default=24 * 3600, gt=0)
    # How often the extraction worker looks for stored deliveries besides being woken
    # by each webhook commit (another replica's, or left behind by a crash).
    extraction_poll_seconds: float = Field(default=1.0, gt=0)
    # Under a burst of webhook deliveries, extraction waits until none arrived for
    # ``extraction_quiet_seconds``, but at most ``extraction_max_lag_seconds`` (0: never
    # waits): acknowledging within the platforms' budget comes first (decision 0201).
    extraction_quiet_seconds: float = Field(default=0.05, gt=0)
    extraction_max_lag_seconds: float = Field(default=30.0, ge=0)
    # Deliveries per extraction transaction: ``extraction_batch_size`` when caught up,
    # doubling per full round up to ``extraction_max_batch_size`` while a backlog lasts
    # (fewer, bigger transactions: less CPU per delivery beside the acknowledgements).
    extraction_batch_size: int = Field(default=100, ge=1)
    extraction_max_batch_size: int = Field(default=500, ge=1)
