"""The statistical layer: TF-IDF features and linear heads, with our own fast inference.

Training uses scikit-learn (``LogisticRegression``); inference does not. Why: one post goes
through four heads, and scikit-learn's per-call overhead (~0.1-0.3 ms per transform or
predict on a single row) alone would exceed the whole 0.5 ms budget per post. Our
inference is a dictionary lookup per token and one small dense gather per head.

Artifacts are plain arrays in an ``.npz`` (no pickle: loading a model file never executes
code), a few hundred kB, stored in ``classifier/data/``.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LinearModel", "fit_linear_model"]


@dataclass(frozen=True, slots=True)
class _Head:
    labels: tuple[str, ...]
    weights: np.ndarray  # (n_labels, n_features) float32
    bias: np.ndarray  # (n_labels,) float32


class LinearModel:
    """A shared TF-IDF vocabulary and one softmax head per target field."""

    def __init__(
        self, vocab: Sequence[str], idf: np.ndarray, heads: Mapping[str, _Head], meta: str = ""
    ) -> None:
        self.vocab = list(vocab)
        self.index = {tok: i for i, tok in enumerate(self.vocab)}
        self.idf = idf.astype(np.float32)
        self.heads = dict(heads)
        self.meta = meta
        if self.heads:
            self._stack()

    def vectorise(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Sparse binary TF-IDF (L2-normalised) as (indices, values)."""
        # Binary term presence: on posts of a few dozen words repeats are rare, and skipping
        # the counting halves the cost of this step.
        hits = set(map(self.index.get, tokens))
        hits.discard(None)
        return self._vectorise_indices(hits)  # type: ignore[arg-type]  # None discarded above

    def _vectorise_indices(self, hits: set[int]) -> tuple[np.ndarray, np.ndarray]:
        if not hits:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        idx = np.fromiter(hits, dtype=np.int64, count=len(hits))
        vals = self.idf[idx]  # fancy indexing copies already
        # A double square root of the float32 sum, rounded to float32 by the division, is
        # the float32 square root (double rounding is exact for sqrt from double to float).
        norm = math.sqrt(np.dot(vals, vals))
        if norm > 0:
            vals /= norm
        return idx, vals

    def _stack(self) -> None:
        # All heads' weights in one matrix: one gather and one product per post, not four.
        self._names = list(self.heads)
        self._weights = np.vstack([h.weights for h in self.heads.values()]).astype(np.float32)
        self._bias = np.concatenate([h.bias for h in self.heads.values()]).astype(np.float32)
        bounds = np.cumsum([0] + [len(h.labels) for h in self.heads.values()])
        self._slices = [(int(a), int(b)) for a, b in itertools.pairwise(bounds.tolist())]
        # Column-major so gathering a post's columns reads contiguous memory.
        self._weights_t = np.ascontiguousarray(self._weights.T)
        self._plan = [
            (name, a, b, self.heads[name].labels)
            for name, (a, b) in zip(self._names, self._slices, strict=True)
        ]

    def predict(self, tokens: Sequence[str]) -> dict[str, dict[str, float]]:
        """Probabilities per head and label."""
        return self.predict_indices(set(i for i in map(self.index.get, tokens) if i is not None))

    def predict_indices(self, hits: set[int]) -> dict[str, dict[str, float]]:
        """Probabilities per head and label from the post's vocabulary indices."""
        idx, vals = self._vectorise_indices(hits)
        # take() + dot(): the same rows and the same product as ``vals @ w[idx]`` (one BLAS
        # call on the same operands), without fancy indexing's per-call set-up.
        logits = (
            self._bias + np.dot(vals, self._weights_t.take(idx, axis=0)) if len(idx) else self._bias
        ).tolist()
        out: dict[str, dict[str, float]] = {}
        exp = math.exp
        # Softmax in plain Python: on 2-9 values numpy's per-call overhead dominates.
        for name, a, b, labels in self._plan:
            part = logits[a:b]
            top = max(part)
            expd = [exp(x - top) for x in part]
            total = sum(expd)
            out[name] = dict(zip(labels, [e / total for e in expd], strict=True))
        return out

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path) -> None:
        """Write the model as an ``.npz`` of arrays (float16 weights: ample for argmax/probs)."""
        arrays: dict[str, np.ndarray] = {
            "vocab": np.frombuffer("\n".join(self.vocab).encode("utf-8"), dtype=np.uint8),
            "idf": self.idf.astype(np.float16),
            "meta": np.frombuffer(self.meta.encode("utf-8"), dtype=np.uint8),
            "heads": np.frombuffer("\n".join(self.heads).encode("utf-8"), dtype=np.uint8),
        }
        for name, head in self.heads.items():
            arrays[f"{name}.labels"] = np.frombuffer("\n".join(head.labels).encode("utf-8"), dtype=np.uint8)
            arrays[f"{name}.weights"] = head.weights.astype(np.float16)
            arrays[f"{name}.bias"] = head.bias.astype(np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]  # numpy stub: **kwds vs allow_pickle

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a model written by :meth:`save` (no pickle involved)."""
        with np.load(path, allow_pickle=False) as data:

            def text(key: str) -> str:
                return bytes(data[key]).decode("utf-8")

            vocab = text("vocab").split("\n")
            heads: dict[str, _Head] = {}
            for name in text("heads").split("\n"):
                heads[name] = _Head(
                    labels=tuple(text(f"{name}.labels").split("\n")),
                    weights=data[f"{name}.weights"].astype(np.float32),
                    bias=data[f"{name}.bias"].astype(np.float32),
                )
            return cls(vocab, data["idf"].astype(np.float32), heads, meta=text("meta"))


def fit_linear_model(
    docs: Sequence[Sequence[str]],
    targets: Mapping[str, Sequence[str | None]],
    *,
    min_df: int = 2,
    keep_prefixes: tuple[str, ...] = ("m:", "cue:"),
    c_by_head: Mapping[str, float] | None = None,
    meta: str = "",
) -> LinearModel:
    """Fit the vocabulary and one logistic-regression head per target.

    ``targets[name][i]`` is the label of doc ``i`` for head ``name``; ``None`` leaves the doc
    out of that head (e.g. the auto-reply head learns only from queries and requests).
    Tokens seen in fewer than ``min_df`` docs are dropped, except rule/meta tokens, which are
    few and deliberately designed.
    """
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    vocab = sorted(t for t, n in df.items() if n >= min_df or t.startswith(keep_prefixes))
    n_docs = len(docs)
    idf = np.array([math.log((1 + n_docs) / (1 + df[t])) + 1.0 for t in vocab], dtype=np.float32)
    model = LinearModel(vocab, idf, {}, meta=meta)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, doc in enumerate(docs):
        idx, v = model.vectorise(doc)
        rows.extend([r] * len(idx))
        cols.extend(idx.tolist())
        vals.extend(v.tolist())
    matrix = csr_matrix((vals, (rows, cols)), shape=(n_docs, len(vocab)), dtype=np.float64)
    heads: dict[str, _Head] = {}
    for name, labels in targets.items():
        keep = [i for i, y in enumerate(labels) if y is not None]
        y = [str(labels[i]) for i in keep]
        classes = sorted(set(y))
        if len(classes) < 2:
            raise ValueError(f"head {name!r} needs at least two labels, got {classes}")
        clf = LogisticRegression(C=(c_by_head or {}).get(name, 10.0), class_weight="balanced", max_iter=3000)
        clf.fit(matrix[keep], y)
        weights = clf.coef_
        bias = clf.intercept_
        if len(classes) == 2:  # binary LR has one row; expand to a two-way softmax
            weights = np.vstack([-weights[0] / 2, weights[0] / 2])
            bias = np.array([-bias[0] / 2, bias[0] / 2])
        heads[name] = _Head(
            tuple(str(c) for c in clf.classes_), weights.astype(np.float32), bias.astype(np.float32)
        )
    return LinearModel(vocab, idf, heads, meta=meta)
