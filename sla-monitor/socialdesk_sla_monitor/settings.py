"""sla-monitor's settings (environment, prefix ``SLA_MONITOR_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class SlaMonitorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_MONITOR_", extra="ignore", frozen=True)

    http_port: int = Field(default=8084, ge=0, le=65535)
    # Off the intake → assignment path: fewer, fuller fetches. Every fetch costs the broker
    # CPU for each of the ~36 partitions this consumer reads (Tansu: ~1-2 ms a fetch), and
    # a reply read 200 ms later changes no verdict (reply_grace_seconds, replied_at).
    fetch_max_wait_ms: int = Field(default=200, ge=1, le=5_000)
    fetch_min_bytes: int = Field(default=64 * 1024, ge=1, le=50 * 1024 * 1024)
    # Upper bound on how long the scheduler sleeps without looking (timers armed by
    # another replica); its own timers wake it at their exact due time.
    max_idle_seconds: float = Field(default=1.0, gt=0, le=60)
    # A deadline is judged this long after it passed: a reply made in time may still be on
    # its way (the assigner's outbox, the broker, our consumer). Replies are judged by
    # when they were made, so this only delays a page, never excuses a late reply.
    reply_grace_seconds: float = Field(default=5.0, ge=0, le=600)
    # While the consumer lags, breaches wait for the replies it has not read yet, but no
    # longer than this: a late page is better than none.
    lag_hold_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Records behind the high watermark above which the consumer counts as lagging.
    lag_hold_events: int = Field(default=1000, ge=0)
