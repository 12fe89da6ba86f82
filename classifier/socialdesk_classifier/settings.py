"""classifier's settings (environment, prefix ``CLASSIFIER_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class ClassifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLASSIFIER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8082, ge=0, le=65535)
