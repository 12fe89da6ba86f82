"""classifier's settings (environment, prefix ``CLASSIFIER_``)."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from socialdesk_runtime.settings import ServiceSettings


class ClassifierServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLASSIFIER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8082, ge=0, le=65535)
    # "model": rules + trained model + grouping + trend/spike detectors; "rules": the
    # configuration's cue words only (no model files needed).
    engine: Literal["model", "rules"] = "model"
    snapshot_seconds: float = Field(default=30.0, gt=0, le=3600)
    replay_limit: int = Field(default=50_000, ge=0)
