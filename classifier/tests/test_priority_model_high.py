"""Issue 14: a complaint or question that no named factor raised above medium is high when the
model's priority head reads a trip in trouble now (``priority_model_high``); the taxonomy's
fixed levels (praise low, safety critical) and requests stay with the rules.

Pure: ``decide_priority`` with the head's probabilities given, no model involved."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from socialdesk_classifier.nlp import Post
from socialdesk_classifier.nlp.classifier import DATA_DIR, build_analyser
from socialdesk_classifier.nlp.priority import decide_priority
from socialdesk_classifier.nlp.settings import ClassifierSettings

_URGENT = {"low": 0.05, "medium": 0.3, "high": 0.5, "critical": 0.15}
_CALM = {"low": 0.2, "medium": 0.55, "high": 0.2, "critical": 0.05}
# Written for this test: a past, settled complaint no high factor reads.
_TEXT = "the seats on the philly bus were kind of worn out, not great"


Decide = Callable[..., tuple[str, tuple[str, ...]]]


@pytest.fixture(scope="module")
def decide(mention: Callable[[str], Post]) -> Decide:
    """(level, factors) of ``decide_priority`` for a category and the head's probabilities."""
    analyser = build_analyser(DATA_DIR)

    def run(
        category: str, probs: dict[str, float], model_high: float = 0.5, text: str = _TEXT
    ) -> tuple[str, tuple[str, ...]]:
        post = mention(text)
        d = decide_priority(
            post, analyser.analyse(post), category, probs, viral_followers=20_000, model_high=model_high
        )
        return d.level, d.factors

    return run


@pytest.mark.parametrize("category", ["complaint", "query"])
def test_the_head_raises_an_unfactored_complaint_or_question_to_high(decide: Decide, category: str) -> None:
    level, why = decide(category, _URGENT)
    assert level == "high"
    assert "model p=0.65" in why[0]


def test_below_the_threshold_the_factorsdecide(decide: Decide) -> None:
    assert decide("complaint", _CALM)[0] == "medium"
    assert decide("complaint", _URGENT, model_high=0.7)[0] == "medium"


def test_zero_turns_the_head_off(decide: Decide) -> None:
    assert decide("complaint", _URGENT, model_high=0.0)[0] == "medium"


@pytest.mark.parametrize(
    ("category", "level"),
    [("praise", "low"), ("other", "low"), ("safety", "critical"), ("request", "medium")],
)
def test_fixed_levels_and_requests_ignore_the_head(decide: Decide, category: str, level: str) -> None:
    assert decide(category, _URGENT)[0] == level


@pytest.mark.parametrize(
    "text",
    [
        "the 8am bus never showed up, we did get there in the end by train. poor",
        "last month's bus to Albany had no working outlets the whole way",
    ],
)
def test_a_settled_or_past_trip_stays_with_the_factors(decide: Decide, text: str) -> None:
    assert decide("complaint", _URGENT, text=text)[0] == "medium"


def test_the_default_setting_is_on() -> None:
    assert ClassifierSettings().priority_model_high == 0.5
