"""Priority calibrated over the named factors (issue 14, decision 0111).

The factors of :mod:`~socialdesk_classifier.nlp.priority` say which fact about a post decides
its level, and each implies one level. Labellers agree with that level most of the time but
not always: "time pressure: now" is high for most posts and critical for a rider who is
stuck, medium for one who only mentions today. A small multinomial logistic regression reads
the deciding factor (its rule, level-free), the level it implies, the model's priority head,
the category and the audience, and gives the level labellers choose for posts like this one,
one step from the factor's at most, and never down to low.

It only moves complaints, questions and requests, never a level the taxonomy fixes by
category (safety and legal critical; praise, promo, spam, other low) nor personal data
exposed. The deciding factor stays in the reasons, with the calibrated level beside it.

It is trained by ``cli train`` on decisions the classifier made on files its model was not
trained on (five folds by file, :func:`calibration_examples`), so it learns how the factors
err on new wording, not how they fit the posts they were written from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from socialdesk_classifier.nlp.priority import LEVELS, PriorityDecision
from socialdesk_classifier.nlp.types import Post

if TYPE_CHECKING:
    from socialdesk_classifier.nlp.features import Analyser

__all__ = [
    "CALIBRATED",
    "Calibrates",
    "CalibrationExample",
    "PriorityCalibrator",
    "calibration_examples",
    "rule_key",
]

#: The categories whose level the calibration may move: the taxonomy fixes the others.
CALIBRATED = ("complaint", "query", "request")
_FIXED_PREFIXES = ("harm:",)
_PARENS = re.compile(r"\(.*\)")
_QUOTED = re.compile(r"'[^']*'")
_DIGITS = re.compile(r"\d+")
_FIXED_FEATURES = len(LEVELS) * 2 + len(CALIBRATED) + 2


def rule_key(factor: str) -> str:
    """The rule behind a factor's text, without what it quotes from the post:
    ``"time pressure: now ('leaving in 20 min')"`` -> ``"time pressure: now (…)"``."""
    key = _PARENS.sub("(…)", factor)
    key = _QUOTED.sub("'…'", key)
    return _DIGITS.sub("#", key).strip()


@dataclass(frozen=True, slots=True)
class CalibrationExample:
    """What the calibration reads of one decision, and (when training) the labelled level."""

    rule: str
    level: str
    probs: Mapping[str, float]
    category: str
    followers: int
    dm: bool
    gold: str | None = None
    post_id: str = ""


class Calibrates(Protocol):
    """What the classifier asks of a calibration (the fitted one, or a recorder in training)."""

    def calibrate(
        self, decided: PriorityDecision, post: Post, category: str, probs: Mapping[str, float]
    ) -> PriorityDecision: ...


class PriorityCalibrator:
    """Multinomial logistic regression over one decision's features (numpy inference)."""

    def __init__(self, rules: Sequence[str], weights: np.ndarray, bias: np.ndarray, meta: str = "") -> None:
        self.rules = tuple(rules)
        self._index = {r: i for i, r in enumerate(self.rules)}
        self.weights = np.asarray(weights, dtype=np.float64)  # (levels, features)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.meta = meta
        if self.weights.shape != (len(LEVELS), len(self.rules) + _FIXED_FEATURES):
            raise ValueError(
                f"calibration weights have shape {self.weights.shape}, not for {len(self.rules)} rules"
            )

    def features(self, example: CalibrationExample) -> np.ndarray:
        """One-hot rule (unknown rules: none), implied level, head, category, audience, channel."""
        x = np.zeros(len(self.rules) + _FIXED_FEATURES)
        i = self._index.get(example.rule)
        if i is not None:
            x[i] = 1.0
        o = len(self.rules)
        for j, level in enumerate(LEVELS):
            x[o + j] = example.probs.get(level, 0.0)
        x[o + len(LEVELS) + LEVELS.index(example.level)] = 1.0
        o += 2 * len(LEVELS)
        if example.category in CALIBRATED:
            x[o + CALIBRATED.index(example.category)] = 1.0
        x[o + len(CALIBRATED)] = math.log1p(max(0, example.followers)) / 12.0
        x[o + len(CALIBRATED) + 1] = float(example.dm)
        return x

    def predict(self, example: CalibrationExample) -> dict[str, float]:
        z = self.weights @ self.features(example) + self.bias
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {level: float(p[j]) for j, level in enumerate(LEVELS)}

    @staticmethod
    def applies(category: str, decided: PriorityDecision) -> bool:
        return category in CALIBRATED and not decided.factors[0].startswith(_FIXED_PREFIXES)

    def calibrate(
        self, decided: PriorityDecision, post: Post, category: str, probs: Mapping[str, float]
    ) -> PriorityDecision:
        """The level labellers give posts decided like this one, the factors kept as the why."""
        if not self.applies(category, decided):
            return decided
        example = CalibrationExample(
            rule_key(decided.factors[0]),
            decided.level,
            probs,
            category,
            post.author_followers,
            post.kind == "dm",
        )
        p = self.predict(example)
        # One step at most: the factor is right about the kind of case, labellers differ by a
        # level. Never down to low: the taxonomy keeps low for plain FAQs, which the factors
        # name themselves (a complaint or a request is at least medium).
        at = LEVELS.index(decided.level)
        steps = [lv for lv in LEVELS[max(0, at - 1) : at + 2] if lv != "low" or lv == decided.level]
        level = max(steps, key=lambda k: p[k])
        if level == decided.level:
            return replace(decided, confidence=round(p[level], 4))
        why = f"calibrated from {decided.level}: labellers give posts decided so {level} (p={p[level]:.2f})"
        return PriorityDecision(level, round(p[level], 4), (*decided.factors, why))

    @classmethod
    def fit(
        cls, examples: Sequence[CalibrationExample], *, meta: str = "", c: float = 1.0
    ) -> PriorityCalibrator:
        """Fit on labelled examples (scikit-learn at training time only)."""
        from sklearn.linear_model import LogisticRegression

        rules = sorted({e.rule for e in examples})
        shell = cls(rules, np.zeros((len(LEVELS), len(rules) + _FIXED_FEATURES)), np.zeros(len(LEVELS)))
        x = np.array([shell.features(e) for e in examples])
        y = np.array([LEVELS.index(e.gold or "") for e in examples])
        lr = LogisticRegression(C=c, max_iter=5000).fit(x, y)
        binary = len(lr.classes_) == 2  # scikit-learn then gives one row: the second class's logit
        coef = np.vstack([np.zeros(x.shape[1]), lr.coef_[0]]) if binary else lr.coef_
        intercept = np.array([0.0, lr.intercept_[0]]) if binary else lr.intercept_
        weights = np.zeros((len(LEVELS), x.shape[1]))
        bias = np.full(len(LEVELS), -1e9)  # a level never labelled is never chosen
        for j, level in enumerate(lr.classes_):
            weights[level], bias[level] = coef[j], intercept[j]
        return cls(rules, weights, bias, meta)

    @classmethod
    def from_data(cls, data_dir: Path) -> PriorityCalibrator:
        """What ``cli train`` wrote to ``priority.npz``."""
        path = data_dir / "priority.npz"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `python -m socialdesk_classifier.cli train`")
        return cls.load(path)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            rules=np.array(self.rules, dtype=np.str_),
            weights=self.weights.astype(np.float32),
            bias=self.bias,
            meta=np.frombuffer(self.meta.encode("utf-8"), dtype=np.uint8),
        )

    @classmethod
    def load(cls, path: Path) -> PriorityCalibrator:
        """Read what :meth:`save` wrote (no pickle involved)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                [str(r) for r in data["rules"]],
                data["weights"],
                data["bias"],
                bytes(data["meta"]).decode("utf-8"),
            )


class _Recorder:
    """Stands in for the calibration to record what it would read (training)."""

    def __init__(self) -> None:
        self.last: CalibrationExample | None = None

    def calibrate(
        self, decided: PriorityDecision, post: Post, category: str, probs: Mapping[str, float]
    ) -> PriorityDecision:
        self.last = None
        if PriorityCalibrator.applies(category, decided):
            self.last = CalibrationExample(
                rule_key(decided.factors[0]),
                decided.level,
                dict(probs),
                category,
                post.author_followers,
                post.kind == "dm",
            )
        return decided


def calibration_examples(
    files: Sequence[Path], analyser: Analyser, data_dir: Path, *, folds: int = 5
) -> dict[str, list[CalibrationExample]]:
    """Each held-out file's decisions (by file name), made by a model trained on the other
    folds of files: the sets written as held-out ones and ``dev.jsonl`` (the sample of the
    labellers' conventions); our hand-written extras always train."""
    from socialdesk_classifier.nlp.autoreply import load_templates
    from socialdesk_classifier.nlp.classifier import Classifier
    from socialdesk_classifier.nlp.training import load_labelled, train_model

    held_out = [f for f in files if f.name.startswith("eval_") or f.name == "dev.jsonl"]
    templates = load_templates(data_dir / "templates.yaml", cues=analyser.lexicon.names)
    out: dict[str, list[CalibrationExample]] = {}
    for fold in range(folds):
        held = held_out[fold::folds]
        model = train_model(load_labelled([f for f in files if f not in held]), analyser)
        recorder = _Recorder()
        clf = Classifier(analyser=analyser, model=model, templates=templates, calibrator=recorder)
        for path in held:
            examples = out.setdefault(path.name, [])
            for row in load_labelled([path]):
                post = Post.from_mapping(row)
                core = clf.decide(post, analyser.analyse(post))
                if recorder.last is not None and core.category in CALIBRATED:
                    examples.append(replace(recorder.last, gold=row["priority"], post_id=row["id"]))
    return out
