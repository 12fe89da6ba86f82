"""A small gradient-boosted tree ensemble with our own vectorised inference (decision 0110).

Training uses scikit-learn's ``HistGradientBoostingClassifier``; inference does not (its
per-call overhead alone exceeds a post's budget, as for the linear heads in
:mod:`~socialdesk_classifier.nlp.model`). The trees are padded to one depth and stored as
plain arrays in an ``.npz`` (no pickle): scoring the candidate groups of one post walks every
tree at once, ``depth`` numpy steps in all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TreeEnsemble"]


class TreeEnsemble:
    """Binary classifier: ``sigmoid(baseline + sum of one leaf value per tree)``.

    Node arrays are ``(n_trees, n_nodes)``; a leaf points to itself on both sides, so every
    row walks exactly ``depth`` steps."""

    def __init__(
        self,
        feature: np.ndarray,
        threshold: np.ndarray,
        left: np.ndarray,
        right: np.ndarray,
        value: np.ndarray,
        baseline: float,
        depth: int,
        meta: str = "",
    ) -> None:
        self.feature = feature.astype(np.int32)
        self.threshold = threshold.astype(np.float64)
        self.left = left.astype(np.int32)
        self.right = right.astype(np.int32)
        self.value = value.astype(np.float64)
        self.baseline = float(baseline)
        self.depth = int(depth)
        self.meta = meta
        self._trees = np.arange(self.feature.shape[0])[None, :]

    @property
    def n_trees(self) -> int:
        return int(self.feature.shape[0])

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of ``rows`` (n, n_features)."""
        n = rows.shape[0]
        node = np.zeros((n, self.n_trees), dtype=np.int32)
        trees = self._trees
        cols = np.arange(n)[:, None]
        for _ in range(self.depth):
            f = self.feature[trees, node]
            go_left = rows[cols, f] <= self.threshold[trees, node]
            node = np.where(go_left, self.left[trees, node], self.right[trees, node])
        # clipped: exp() of a very sure "no" would overflow (the probability is 0 either way)
        raw = np.clip(self.baseline + self.value[trees, node].sum(axis=1), -50.0, 50.0)
        out: np.ndarray = 1.0 / (1.0 + np.exp(-raw))
        return out

    @classmethod
    def fit(cls, rows: np.ndarray, labels: np.ndarray, *, meta: str = "", **params: Any) -> TreeEnsemble:
        """Fit scikit-learn's histogram gradient boosting and keep its trees."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        settings: dict[str, Any] = {"max_iter": 60, "max_depth": 5, "learning_rate": 0.15, "random_state": 0}
        settings.update(params)
        model = HistGradientBoostingClassifier(**settings).fit(rows, labels)
        return cls.from_sklearn(model, meta=meta)

    @classmethod
    def from_sklearn(cls, model: Any, *, meta: str = "") -> TreeEnsemble:
        """The trees of a fitted binary ``HistGradientBoostingClassifier`` (no missing values)."""
        trees = [predictors[0].nodes for predictors in model._predictors]
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
        baseline = float(np.asarray(model._baseline_prediction).ravel()[0])
        return cls(feature, threshold, left, right, value, baseline, depth, meta)

    def save(self, path: Path) -> None:
        """Write the trees as an ``.npz`` of arrays."""
        np.savez_compressed(
            path,
            feature=self.feature.astype(np.int16),
            threshold=self.threshold,
            left=self.left.astype(np.int16),
            right=self.right.astype(np.int16),
            value=self.value,
            baseline=np.array([self.baseline]),
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
                float(data["baseline"][0]),
                int(data["depth"][0]),
                bytes(data["meta"]).decode("utf-8"),
            )
