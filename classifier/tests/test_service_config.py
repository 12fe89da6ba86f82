"""The deployment's classifier section is what the service will accept at start."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from socialdesk_classifier.nlp import ClassifierSettings
from socialdesk_runtime.config import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "config" / "socialdesk.example.yaml"


def test_example_configuration_classifier_section_validates_with_brand_overrides() -> None:
    config = load_config(EXAMPLE, env={})
    settings = ClassifierSettings.model_validate(config.classifier)
    assert settings.auto_reply_threshold("rally") > settings.auto_reply_threshold("ourbus")


def test_a_misspelt_threshold_is_refused() -> None:
    with pytest.raises(ValidationError, match="auto_reply_min_confidense"):
        ClassifierSettings.model_validate({"auto_reply_min_confidense": 0.9})
