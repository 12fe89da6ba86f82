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
from socialdesk_classifier.nlp.rules import CueHit, Lexicon, Windows
from socialdesk_classifier.nlp.sentiment import SentimentScore, SentimentScorer
from socialdesk_classifier.nlp.text import CleanText, char_ngrams, clean, word_tokens
from socialdesk_classifier.nlp.types import Post

__all__ = ["CHAR_LIMIT", "Analyser", "Analysis", "FeatureIndexer", "feature_tokens"]

#: At most this many char n-grams per post (bounds the cost of pathological input).
CHAR_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything deterministic we know about a post before the model speaks."""

    clean: CleanText
    words: list[str]
    cues: dict[str, CueHit]
    language: str
    language_confidence: float
    sentiment: SentimentScore
    #: The text's prefilter windows, shared by every lexicon that reads the post.
    windows: Windows | None = None

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
        windows = Windows.of(ct.text)
        cues = self.lexicon.match(ct.text, windows=windows) if ct.text else {}
        lang, lang_conf = self.language.detect(ct.text) if ct.text else ("und", 0.0)
        score = self.sentiment.score(ct.text, sarcasm="sarcasm" in cues, downplay="downplay" in cues)
        return Analysis(ct, word_tokens(ct.norm), cues, lang, lang_conf, score, windows)


def _bucket(followers: int) -> str:
    if followers <= 0:
        return "0"
    return str(min(7, int(math.log10(followers + 1) * 1.5)))


def _other_tokens(post: Post, analysis: Analysis) -> list[str]:
    """Bigrams, cue and metadata tokens (everything but per-word tokens)."""
    tokens = [f"b:{a} {b}" for a, b in itertools.pairwise(analysis.words)]
    tokens.extend(_meta_tokens(post, analysis))
    return tokens


def _meta_tokens(post: Post, analysis: Analysis) -> list[str]:
    """Cue and metadata tokens."""
    return [*(f"cue:{name}" for name in analysis.cues), *_post_tokens(post, analysis)]


def _post_tokens(post: Post, analysis: Analysis) -> list[str]:
    """Metadata tokens: kind, brand, audience, sentiment bucket, language, caps, length."""
    tokens: list[str] = []
    ct = analysis.clean
    tokens.append(f"m:kind={post.kind}")
    tokens.append(f"m:brand={post.brand}")
    tokens.append(f"m:fol={_bucket(post.author_followers)}")
    tokens.append(f"m:sent={analysis.sentiment.bucket}")
    tokens.append(f"m:lang={'en' if analysis.language == 'en' else 'other'}")
    if ct.caps_ratio >= 0.5:
        tokens.append("m:caps")
    tokens.append(f"m:len={_len_bucket(len(analysis.words))}")
    return tokens


def _len_bucket(n_words: int) -> str:
    return "xs" if n_words < 4 else "s" if n_words < 12 else "m" if n_words < 30 else "l"


def feature_tokens(post: Post, analysis: Analysis) -> list[str]:
    """Token list for the linear model: words, bigrams, char n-grams, cues, metadata."""
    words = analysis.words
    tokens = [f"w:{w}" for w in words]
    tokens.extend(f"c:{g}" for g in char_ngrams(words, limit=CHAR_LIMIT))
    tokens.extend(_other_tokens(post, analysis))
    return tokens


class FeatureIndexer:
    """The model's feature indices of a post, without building the token strings.

    Same set, built in the same order, as ``{model.index[t] for t in feature_tokens(...)}``
    (a test checks it), but a word's ``w:`` and char n-gram indices are computed once and
    cached: building ~150 token strings and hashing them was ~40% of a post's model cost.
    Bigrams are looked up word by word in a two-level table instead of as ``"b:a b"``
    strings. The cache is bounded.
    """

    def __init__(self, index: dict[str, int], max_words: int = 50_000) -> None:
        self._index = index
        self._max = max_words
        # word -> (its w: index then its char n-gram indices, the w: index alone, n-grams)
        self._cache: dict[str, tuple[tuple[int, ...], tuple[int, ...], int]] = {}
        # "b:first second" -> index, as first -> second -> index (words hold no spaces).
        self._bigrams: dict[str, dict[str, int]] = {}
        # cue name -> index of "cue:<name>"; the metadata tokens' indices by what they read.
        self._cue_index = {t[4:]: i for t, i in index.items() if t.startswith("cue:")}
        self._meta: dict[tuple[str, str, str, str, bool, bool, str], tuple[int, ...]] = {}
        for token, i in index.items():
            if token.startswith("b:"):
                first, _, second = token[2:].partition(" ")
                self._bigrams.setdefault(first, {})[second] = i

    def _word(self, word: str) -> tuple[tuple[int, ...], tuple[int, ...], int]:
        get = self._index.get
        w = get(f"w:{word}")
        grams = char_ngrams([word], limit=CHAR_LIMIT)
        w_idx = (w,) if w is not None else ()
        c_idx = tuple(i for g in grams if (i := get(f"c:{g}")) is not None)
        entry = (w_idx + c_idx, w_idx, len(grams))
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[word] = entry
        return entry

    def indices(self, post: Post, analysis: Analysis) -> set[int]:
        """Vocabulary indices of the post's features."""
        words = analysis.words
        cached = self._cache.get
        entries = [cached(word) or self._word(word) for word in words]
        if sum(e[2] for e in entries[:-1]) < CHAR_LIMIT:
            # The usual post: no word before the last reaches the n-gram limit, so every
            # word adds its w: index and its n-grams, in order.
            out = set(itertools.chain.from_iterable(e[0] for e in entries))
        else:
            out = set()
            n_grams = 0
            for both, w_idx, n in entries:
                if n_grams < CHAR_LIMIT:
                    # char_ngrams stops after the word that reaches the limit: same here.
                    out.update(both)
                    n_grams += n
                else:
                    out.update(w_idx)
        bigrams = self._bigrams.get
        for a, b in itertools.pairwise(words):
            seconds = bigrams(a)
            if seconds is not None and (i := seconds.get(b)) is not None:
                out.add(i)
        cue_index = self._cue_index
        out.update(cue_index[name] for name in analysis.cues if name in cue_index)
        n_words = len(words)
        key = (
            post.kind,
            post.brand,
            _bucket(post.author_followers),
            analysis.sentiment.bucket,
            analysis.language == "en",
            analysis.clean.caps_ratio >= 0.5,
            _len_bucket(n_words),
        )
        meta = self._meta.get(key)
        if meta is None:
            get = self._index.get
            meta = tuple(i for t in _post_tokens(post, analysis) if (i := get(t)) is not None)
            if len(self._meta) >= self._max:
                self._meta.clear()
            self._meta[key] = meta
        out.update(meta)
        return out
