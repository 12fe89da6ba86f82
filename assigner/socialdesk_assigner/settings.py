"""assigner's settings (environment, prefix ``ASSIGNER_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class AssignerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ASSIGNER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8083, ge=0, le=65535)
    #: How often the desk worker drains queues and moves idle tickets (beside the events
    #: that do it at once: going online, resolving).
    desk_tick_seconds: float = Field(default=5.0, gt=0)
    #: The largest request body the desk accepts (413 beyond).
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
