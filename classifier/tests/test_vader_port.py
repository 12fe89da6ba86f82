"""The VADER port gives the library's compound score, float for float."""

from __future__ import annotations

import random

import pytest
from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]  # ships no type hints
    BOOSTER_DICT,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

from socialdesk_classifier.nlp.sentiment import _EXTRA_VALENCE
from socialdesk_classifier.nlp.vader import VaderCompound


@pytest.fixture(scope="module")
def pair() -> tuple[SentimentIntensityAnalyzer, VaderCompound]:
    vader = SentimentIntensityAnalyzer()
    vader.lexicon.update(_EXTRA_VALENCE)
    return vader, VaderCompound(vader.lexicon, vader.emojis)


def test_same_compound_on_every_development_post(
    pair: tuple[SentimentIntensityAnalyzer, VaderCompound], development_texts: list[str]
) -> None:
    vader, port = pair
    texts = development_texts
    assert len(texts) > 1000
    for text in texts:
        assert port.compound(text) == vader.polarity_scores(text)["compound"], text


def test_same_compound_on_word_salad_with_every_rule(
    pair: tuple[SentimentIntensityAnalyzer, VaderCompound],
) -> None:
    # Negations, boosters, "but", "no", "least", "kind of", idioms, caps, emoji and
    # punctuation in random order: every branch of the port against the library.
    vader, port = pair
    rng = random.Random(14)
    lexicon_words = ["good", "bad", "great", "terrible", "love", "hate", "gracias", "pésimo", "no", "kind"]
    vocab = (
        lexicon_words
        + list(NEGATE)[:20]
        + [w for w in BOOSTER_DICT if " " not in w][:20]
        + [
            w
            for phrase in [
                *list(SPECIAL_CASES),
                "kind of",
                "sort of",
                "at least",
                "very least",
                "just enough",
                "kind-of",
            ]
            for w in phrase.split()
        ]
        + [
            "but",
            "BUT",
            "least",
            "or",
            "nor",
            "never",
            "so",
            "this",
            "without",
            "doubt",
            "bus",
            "the",
            "at",
            "very",
        ]
        + ["GOOD", "Bad!", ":)", ":(", "!!!", "??", "😡", "🙂", "👍", "late.", "...", "n't", "isn't"]
    )
    for _ in range(3000):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 14))]
        text = rng.choice([" ", "  ", "😡", ""]).join(words) if rng.random() < 0.1 else " ".join(words)
        assert port.compound(text) == vader.polarity_scores(text)["compound"], text
