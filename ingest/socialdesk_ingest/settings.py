"""ingest's settings (environment, prefix ``INGEST_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", frozen=True)

    http_port: int = Field(default=8081, ge=0, le=65535)
    # A conversation silent this long starts a new ticket on its next message.
    conversation_idle_seconds: float = Field(default=24 * 3600, gt=0)
    # How often the extraction worker looks for stored deliveries besides being woken
    # by each webhook commit (another replica's, or left behind by a crash).
    extraction_poll_seconds: float = Field(default=1.0, gt=0)
