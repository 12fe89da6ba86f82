"""Issue 14: a complaint or question that no named factor raised above medium is high when the
model's priority head reads a trip in trouble now (``priority_model_high``); the taxonomy's
fixed levels (praise low, safety critical) and requests stay with the rules.

Pure: ``decide_priority`` with the head's probabilities given, no model involved."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialdesk_classifier.nlp import Post
from socialdesk_classifier.nlp.classifier import DATA_DIR, build_analyser
from socialdesk_classifier.nlp.priority import decide_priority
from socialdesk_classifier.nlp.settings import ClassifierSettings

_URGENT = {"low": 0.05, "medium": 0.3, "high": 0.5, "critical": 0.15}
_CALM = {"low": 0.2, "medium": 0.55, "high": 0.2, "critical": 0.05}
# Written for this test: a past, settled complaint no high factor reads.
_TEXT = "the seats on the philly bus were kind of worn out, not great"


def _decide(
    category: str, probs: dict[str, float], model_high: float = 0.5, text: str = _TEXT
) -> tuple[str, tuple[str, ...]]:
    post = Post(
        id="p",
        brand="ourbus",
        platform="x",
        kind="mention",
        author_followers=40,
        text=text,
        created_at=datetime(2026, 5, 2, 12, tzinfo=UTC),
    )
    analysis = build_analyser(DATA_DIR).analyse(post)
    d = decide_priority(post, analysis, category, probs, viral_followers=20_000, model_high=model_high)
    return d.level, d.factors


@pytest.mark.parametrize("category", ["complaint", "query"])
def test_the_head_raises_an_unfactored_complaint_or_question_to_high(category: str) -> None:
    level, why = _decide(category, _URGENT)
    assert level == "high"
    assert "model p=0.65" in why[0]


def test_below_the_threshold_the_factors_decide() -> None:
    assert _decide("complaint", _CALM)[0] == "medium"
    assert _decide("complaint", _URGENT, model_high=0.7)[0] == "medium"


def test_zero_turns_the_head_off() -> None:
    assert _decide("complaint", _URGENT, model_high=0.0)[0] == "medium"


@pytest.mark.parametrize(
    ("category", "level"),
    [("praise", "low"), ("other", "low"), ("safety", "critical"), ("request", "medium")],
)
def test_fixed_levels_and_requests_ignore_the_head(category: str, level: str) -> None:
    assert _decide(category, _URGENT)[0] == level


@pytest.mark.parametrize(
    "text",
    [
        "the 8am bus never showed up, we did get there in the end by train. poor",
        "last month's bus to Albany had no working outlets the whole way",
    ],
)
def test_a_settled_or_past_trip_stays_with_the_factors(text: str) -> None:
    assert _decide("complaint", _URGENT, text=text)[0] == "medium"


def test_the_default_setting_is_on() -> None:
    assert ClassifierSettings().priority_model_high == 0.5
