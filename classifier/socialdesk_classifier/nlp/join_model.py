"""A small gradient-boosted tree ensemble with our own vectorised inference (decision 0110).

Training uses scikit-learn's ``HistGradientBoostingClassifier``; inference does not (its
per-call overhead alone exceeds a post's budget, as for the linear heads in
:mod:`~socialdesk_classifier.nlp.model`). The trees are padded to one depth and stored as
plain arrays in an ``.npz`` (no pickle): scoring the candidate groups of one post walks every
tree at once, ``depth`` numpy steps in all.

The shipped model is a *bag* (decision 0112): several ensembles, each fit on the timed files
drawn with replacement, whose probabilities are averaged. Fit on two random 80 % subsets of
the training files, one ensemble's pair precision on held-out sets differed by 0.14 at the
90th percentile; the bag's by 0.04.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TreeEnsemble"]


#: The gradient boosting's settings (decision 0110) and the bag's size (decision 0112).
BOOSTING: dict[str, Any] = {"max_iter": 60, "max_depth": 5, "learning_rate": 0.15, "random_state": 0}
BAG_SIZE = 5


class TreeEnsemble:
    """Binary classifier: the mean over its members of ``sigmoid(baseline + sum of one leaf
    value per tree)``; ``members`` counts each member's trees, in order.

    Node arrays are ``(n_trees, n_nodes)``; a leaf points to itself on both sides, so every
    row walks exactly ``depth`` steps."""

    def __init__(
        self,
        feature: np.ndarray,
        threshold: np.ndarray,
        left: np.ndarray,
        right: np.ndarray,
        value: np.ndarray,
        baseline: float | Sequence[float] | np.ndarray,
        depth: int,
        meta: str = "",
        members: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        self.feature = feature.astype(np.int32)
        self.threshold = threshold.astype(np.float64)
        self.left = left.astype(np.int32)
        self.right = right.astype(np.int32)
        self.value = value.astype(np.float64)
        self.baseline = np.asarray(baseline, dtype=np.float64).reshape(-1)
        self.members = np.asarray(members if members is not None else [self.feature.shape[0]], dtype=np.int64)
        if (
            self.members.ndim != 1
            or not (self.members > 0).all()
            or len(self.members) != len(self.baseline)
            or int(self.members.sum()) != self.feature.shape[0]
        ):
            raise ValueError("members must count every tree once, one baseline each")
        self.depth = int(depth)
        self.meta = meta
        self._starts = np.concatenate([[0], np.cumsum(self.members)[:-1]])
        # Scoring walks flat arrays: a node's index is its tree's offset plus its own, so each
        # step is four 1-D gathers (twice as fast as indexing by tree and node).
        n_trees, n_nodes = self.feature.shape
        self._root = np.arange(n_trees, dtype=np.intp) * n_nodes
        self._feature = self.feature.ravel().astype(np.intp)
        self._threshold = self.threshold.ravel()
        self._left = (self.left + self._root[:, None]).ravel().astype(np.intp)
        self._right = (self.right + self._root[:, None]).ravel().astype(np.intp)
        self._value = self.value.ravel()

    @property
    def n_trees(self) -> int:
        return int(self.feature.shape[0])

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of ``rows`` (n, n_features)."""
        n, n_features = rows.shape
        flat = np.ascontiguousarray(rows, dtype=np.float64).ravel()
        row_at = (np.arange(n, dtype=np.intp) * n_features)[:, None]
        node = np.broadcast_to(self._root, (n, self.n_trees))
        for _ in range(self.depth):
            go_left = flat[row_at + self._feature[node]] <= self._threshold[node]
            node = np.where(go_left, self._left[node], self._right[node])
        sums = np.add.reduceat(self._value[node], self._starts, axis=1)
        # clipped: exp() of a very sure "no" would overflow (the probability is 0 either way)
        raw = np.clip(self.baseline + sums, -50.0, 50.0)
        out: np.ndarray = (1.0 / (1.0 + np.exp(-raw))).mean(axis=1)
        return out

    @classmethod
    def fit(cls, rows: np.ndarray, labels: np.ndarray, *, meta: str = "", **params: Any) -> TreeEnsemble:
        """Fit scikit-learn's histogram gradient boosting and keep its trees."""
        return cls.from_sklearn(_boosted(rows, labels, params), meta=meta)

    @classmethod
    def fit_bagged(
        cls,
        parts: Sequence[tuple[np.ndarray, np.ndarray]],
        *,
        size: int = BAG_SIZE,
        seed: int = 0,
        meta: str = "",
        **params: Any,
    ) -> TreeEnsemble:
        """A bag of ``size`` ensembles, each fit on ``parts`` (rows, labels of one file) drawn
        with replacement: what one file teaches cannot swing the whole model."""
        if size < 1 or not parts:
            raise ValueError("a bag needs at least one member and one file")
        rng = np.random.default_rng(seed)
        models = []
        for _ in range(size):
            drawn = rng.integers(0, len(parts), size=len(parts))
            rows = np.concatenate([parts[i][0] for i in drawn])
            labels = np.concatenate([parts[i][1] for i in drawn])
            models.append(_boosted(rows, labels, params))
        return cls.from_sklearn(*models, meta=meta)

    @classmethod
    def from_sklearn(cls, *models: Any, meta: str = "") -> TreeEnsemble:
        """The trees of fitted binary ``HistGradientBoostingClassifier``s (no missing values),
        one member each."""
        trees = [predictors[0].nodes for model in models for predictors in model._predictors]
        width = max(len(t) for t in trees)
        shape = (len(trees), width)
        feature = np.zeros(shape, dtype=np.int32)
        threshold = np.zeros(shape)
        value = np.zeros(shape)
        left = np.tile(np.arange(width, dtype=np.int32), (len(trees), 1))
        right = left.copy()
        depth = 0
        for i, nodes in enumerate(trees):
            n = len(nodes)
            leaf = nodes["is_leaf"].astype(bool)
            feature[i, :n] = np.where(leaf, 0, nodes["feature_idx"])
            threshold[i, :n] = np.where(leaf, np.inf, nodes["num_threshold"])
            value[i, :n] = np.where(leaf, nodes["value"], 0.0)
            left[i, :n] = np.where(leaf, np.arange(n), nodes["left"])
            right[i, :n] = np.where(leaf, np.arange(n), nodes["right"])
            depth = max(depth, int(nodes["depth"].max()))
        baselines = [float(np.asarray(m._baseline_prediction).ravel()[0]) for m in models]
        members = [len(m._predictors) for m in models]
        return cls(feature, threshold, left, right, value, baselines, depth, meta, members)

    def save(self, path: Path) -> None:
        """Write the trees as an ``.npz`` of arrays."""
        np.savez_compressed(
            path,
            feature=self.feature.astype(np.int16),
            threshold=self.threshold,
            left=self.left.astype(np.int16),
            right=self.right.astype(np.int16),
            value=self.value,
            baseline=self.baseline,
            members=self.members,
            depth=np.array([self.depth]),
            meta=np.frombuffer(self.meta.encode("utf-8"), dtype=np.uint8),
        )

    @classmethod
    def load(cls, path: Path) -> TreeEnsemble:
        """Read trees written by :meth:`save` (no pickle involved)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["feature"],
                data["threshold"],
                data["left"],
                data["right"],
                data["value"],
                data["baseline"],
                int(data["depth"][0]),
                bytes(data["meta"]).decode("utf-8"),
                data["members"] if "members" in data.files else None,
            )


def _boosted(rows: np.ndarray, labels: np.ndarray, params: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**{**BOOSTING, **params}).fit(rows, labels)
