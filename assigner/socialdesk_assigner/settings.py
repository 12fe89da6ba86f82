"""assigner's settings (environment, prefix ``ASSIGNER_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class AssignerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ASSIGNER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8083, ge=0, le=65535)
