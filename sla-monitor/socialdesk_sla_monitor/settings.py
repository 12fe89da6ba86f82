"""sla-monitor's settings (environment, prefix ``SLA_MONITOR_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class SlaMonitorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_MONITOR_", extra="ignore", frozen=True)

    http_port: int = Field(default=8084, ge=0, le=65535)
    # Upper bound on how long the scheduler sleeps without looking (timers armed by
    # another replica); its own timers wake it at their exact due time.
    max_idle_seconds: float = Field(default=1.0, gt=0, le=60)
