"""The model's fast paths give the plain computation's answer, float for float.

Why order matters: the indices' set order is the order of the rows summed in the dot
product, and float32 sums depend on it; the fast indexer must build its set in the order
the plain one does (word by word: ``w:`` then char n-grams; then bigrams, cues, metadata).
"""

from __future__ import annotations

import math

import numpy as np

from socialdesk_classifier.nlp.classifier import DATA_DIR, build_analyser
from socialdesk_classifier.nlp.features import CHAR_LIMIT, FeatureIndexer, _other_tokens
from socialdesk_classifier.nlp.model import LinearModel
from socialdesk_classifier.nlp.text import char_ngrams
from socialdesk_classifier.nlp.types import Post


def _plain_indices(model: LinearModel, post: Post, words: list[str], analysis: object) -> set[int]:
    out: set[int] = set()
    n_grams = 0
    for word in words:
        if (w := model.index.get(f"w:{word}")) is not None:
            out.add(w)
        grams = char_ngrams([word], limit=CHAR_LIMIT)
        if n_grams < CHAR_LIMIT and grams:
            out.update(i for g in grams if (i := model.index.get(f"c:{g}")) is not None)
            n_grams += len(grams)
    out.update(i for t in _other_tokens(post, analysis) if (i := model.index.get(t)) is not None)  # type: ignore[arg-type]
    return out


def _plain_predict(model: LinearModel, hits: set[int]) -> dict[str, dict[str, float]]:
    if not hits:
        logits = model._bias.tolist()
    else:
        idx = np.fromiter(hits, dtype=np.int64, count=len(hits))
        vals = model.idf[idx].copy()
        norm = float(np.sqrt(np.dot(vals, vals)))
        if norm > 0:
            vals /= norm
        logits = (model._bias + vals @ model._weights_t[idx]).tolist()
    out: dict[str, dict[str, float]] = {}
    for name, (a, b) in zip(model._names, model._slices, strict=True):
        part = logits[a:b]
        expd = [math.exp(x - max(part)) for x in part]
        out[name] = {label: e / sum(expd) for label, e in zip(model.heads[name].labels, expd, strict=True)}
    return out


def test_indices_and_probabilities_equal_the_plain_computation(development_texts: list[str]) -> None:
    model = LinearModel.load(DATA_DIR / "model.npz")
    analyser = build_analyser(DATA_DIR)
    indexer = FeatureIndexer(model.index, max_words=200)  # small: exercises the cache reset
    texts = [*development_texts, "x" * 3000, "late " * 2000, "", "🙂🙂", "??"]
    for i, text in enumerate(texts):
        post = Post(id=str(i), brand="ourbus", platform="x", kind="dm", author_followers=i, text=text)
        analysis = analyser.analyse(post)
        fast = indexer.indices(post, analysis)
        plain = _plain_indices(model, post, analysis.words, analysis)
        assert list(fast) == list(plain), text[:80]
        assert model.predict_indices(fast) == _plain_predict(model, plain), text[:80]
