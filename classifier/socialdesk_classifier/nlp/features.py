"""One pass of analysis per post, shared by training and runtime.

:func:`analyse` runs the cheap deterministic steps (cleaning, rules, language, sentiment score)
and :func:`feature_tokens` turns the result into the token list the linear model reads. The
model sees the rule cues and the sentiment bucket as tokens, so it can learn how much to trust
each cue, while the strong cues also act directly in the decision rules.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from socialdesk_classifier.nlp.language import LanguageDetector
from socialdesk_classifier.nlp.rules import CueHit, Lexicon
from socialdesk_classifier.nlp.sentiment import SentimentScore, SentimentScorer
from socialdesk_classifier.nlp.text import CleanText, char_ngrams, clean, word_tokens
from socialdesk_classifier.nlp.types import Post

__all__ = ["Analyser", "Analysis", "feature_tokens"]


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything deterministic we know about a post before the model speaks."""

    clean: CleanText
    words: list[str]
    cues: dict[str, CueHit]
    language: str
    language_confidence: float
    sentiment: SentimentScore

    @property
    def empty(self) -> bool:
        """No letters at all (emoji-only, punctuation, blank): nothing to read."""
        return self.clean.letters == 0


class Analyser:
    """Holds the rule lexicon, the language detector and the sentiment scorer."""

    def __init__(self, lexicon: Lexicon, language: LanguageDetector, sentiment: SentimentScorer) -> None:
        self.lexicon = lexicon
        self.language = language
        self.sentiment = sentiment

    def analyse(self, post: Post) -> Analysis:
        """Analyse one post; never raises on odd text."""
        ct = clean(post.text)
        cues = self.lexicon.match(ct.text) if ct.text else {}
        lang, lang_conf = self.language.detect(ct.text) if ct.text else ("und", 0.0)
        score = self.sentiment.score(ct.text, sarcasm="sarcasm" in cues, downplay="downplay" in cues)
        return Analysis(ct, word_tokens(ct.norm), cues, lang, lang_conf, score)


def _bucket(followers: int) -> str:
    if followers <= 0:
        return "0"
    return str(min(7, int(math.log10(followers + 1) * 1.5)))


def feature_tokens(post: Post, analysis: Analysis) -> list[str]:
    """Token list for the linear model: words, bigrams, char n-grams, cues, metadata."""
    words = analysis.words
    tokens = [f"w:{w}" for w in words]
    tokens.extend(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    tokens.extend(f"c:{g}" for g in char_ngrams(words))
    tokens.extend(f"cue:{name}" for name in analysis.cues)
    ct = analysis.clean
    tokens.append(f"m:kind={post.kind}")
    tokens.append(f"m:brand={post.brand}")
    tokens.append(f"m:fol={_bucket(post.author_followers)}")
    tokens.append(f"m:sent={analysis.sentiment.bucket}")
    tokens.append(f"m:lang={'en' if analysis.language == 'en' else 'other'}")
    if ct.caps_ratio >= 0.5:
        tokens.append("m:caps")
    n_words = len(words)
    tokens.append(f"m:len={'xs' if n_words < 4 else 's' if n_words < 12 else 'm' if n_words < 30 else 'l'}")
    return tokens
