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


def test_a_deployment_adds_its_own_cue_patterns_without_retraining() -> None:
    from datetime import UTC, datetime

    from socialdesk_classifier.nlp import Post, load_default_classifier

    text = "Hey Rally team, let's do a brand swap for the Phish tour, DM me"
    post = Post(
        id="1",
        brand="rally",
        platform="instagram",
        kind="comment",
        author_followers=900,
        text=text,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    plain = load_default_classifier().classify(post)
    custom = load_default_classifier(
        ClassifierSettings.model_validate({"extra_cues": {"marketing_collab": {"en": [r"\bbrand swap\b"]}}})
    ).classify(post)
    assert custom.queue == "marketing"
    assert any("marketing_collab" in r for r in custom.reasons)
    assert plain.reasons != custom.reasons


def test_an_extra_pattern_for_an_unknown_cue_is_refused() -> None:
    from socialdesk_classifier.nlp import load_default_classifier

    with pytest.raises(ValueError, match="unknown cue 'marketing_colab'"):
        load_default_classifier(
            ClassifierSettings.model_validate({"extra_cues": {"marketing_colab": {"en": ["x"]}}})
        )
