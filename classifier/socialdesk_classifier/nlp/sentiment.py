"""Sentiment scoring that copes with social-media text.

VADER (``vadersentiment``) is built for tweets: it reads caps, "!!!", emoji, boosters and
English negation ("not bad"). What it lacks, we add here:

* a small Spanish / Portuguese / French / German valence list merged into its lexicon, so a
  "qué vergüenza" is not neutral;
* sarcasm: posts where a sarcasm cue fired (``🙃``, "said no one", "love that for me",
  "10/10 would not") and VADER still sees positive words are flipped to negative, because
  on a bus company's mentions ironic praise is a complaint almost every time;
* downplaying ("not a complaint", "not the end of the world"): damps the score.

The score here is one input; the final label is decided in the classifier together with the
category (a complaint is negative unless it plays the problem down, spam is neutral).
"""

from __future__ import annotations

from dataclasses import dataclass

from socialdesk_classifier.nlp.vader import VaderCompound

__all__ = ["SentimentScore", "SentimentScorer"]

_EXTRA_VALENCE: dict[str, float] = {
    # Spanish
    "gracias": 2.0,
    "excelente": 3.0,
    "amable": 2.0,
    "genial": 2.5,
    "increíble": 2.5,
    "bueno": 1.5,
    "buen": 1.5,
    "encanta": 2.5,
    "feliz": 2.0,
    "malo": -2.0,
    "mala": -2.0,
    "mal": -1.5,
    "pésimo": -3.0,
    "pésima": -3.0,
    "vergüenza": -2.5,
    "absurdo": -2.0,
    "decepcionada": -2.0,
    "decepcionado": -2.0,
    "horrible": -2.5,
    "tarde": -0.5,
    "tirados": -2.0,
    "nadie": -0.8,
    "retraso": -1.5,
    "feo": -1.5,
    "miedo": -2.0,
    # Portuguese
    "obrigado": 2.0,
    "obrigada": 2.0,
    "ótimo": 2.5,
    "ótima": 2.5,
    "péssimo": -3.0,
    "atrasou": -1.5,
    "quebrado": -1.5,
    "decepcionada_pt": -2.0,
    "absurda": -2.0,
    "ninguém": -0.8,
    # French
    "merci": 2.0,
    "génial": 2.5,
    "nul": -2.0,
    "déçu": -2.0,
    "déçue": -2.0,
    "retard": -1.5,
    # German
    "danke": 2.0,
    "toll": 2.0,
    "enttäuscht": -2.0,
    "verspätet": -1.5,
    "schlecht": -2.0,
}


@dataclass(frozen=True, slots=True)
class SentimentScore:
    """VADER-style compound in [-1, 1] after our adjustments, plus what adjusted it."""

    compound: float
    raw_compound: float
    sarcasm_flip: bool
    downplayed: bool

    @property
    def bucket(self) -> str:
        """Coarse label of the score alone (used as a model feature and as a fallback)."""
        if self.compound >= 0.35:
            return "positive"
        if self.compound <= -0.3:
            return "negative"
        return "neutral"


class SentimentScorer:
    """Wraps one VADER analyzer (its lexicon loads in ~15 ms, once)."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]  # ships no type hints
            SentimentIntensityAnalyzer,
        )

        self._vader = SentimentIntensityAnalyzer()
        self._vader.lexicon.update(_EXTRA_VALENCE)
        # VADER's own arithmetic on VADER's lexicon (plus ours), without its per-word
        # re-lower-casing: see :mod:`socialdesk_classifier.nlp.vader`.
        self._compound = VaderCompound(self._vader.lexicon, self._vader.emojis).compound

    def score(self, text: str, *, sarcasm: bool = False, downplay: bool = False) -> SentimentScore:
        """Score cleaned ``text``; ``sarcasm``/``downplay`` come from the rules layer."""
        if not text:
            return SentimentScore(0.0, 0.0, False, False)
        # VADER's cost grows with length; the first 600 characters carry the tone.
        raw = self._compound(text[:600])
        compound = raw
        flipped = False
        if sarcasm and compound > -0.3:
            compound = -max(0.4, abs(compound))
            flipped = True
        if downplay:
            compound *= 0.5
        return SentimentScore(compound, raw, flipped, downplay)
