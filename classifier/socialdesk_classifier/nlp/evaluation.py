"""Evaluation of the classifier on labelled data (``make eval``).

Never scores a post the model was trained on.

- :func:`cross_validate`: k-fold CV over every training file (dev, extras, development sets):
  for each fold the model is trained on the other folds and scores only the held-out one.
  Rules are not trained, so they are the same in every fold. Grouping is unsupervised: it
  runs once per file in file order (by ``created_at`` when the file has it, else one second
  apart, as ``make classify`` does), fed the cross-validated categories; posts of two files
  never pair.
- :func:`leave_one_set_out`: one development set scored by a model trained on everything
  else (how a set from a writer the model has not seen scores; the rules were read on it).
- :func:`evaluate_holdout`: a sealed set scored by the model trained on every training file.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

from socialdesk_classifier.nlp.autoreply import load_templates
from socialdesk_classifier.nlp.classifier import DATA_DIR, Classifier, build_analyser
from socialdesk_classifier.nlp.eval_cache import calibrator_leaving_out, incident_cache
from socialdesk_classifier.nlp.grouping import Grouper, SignatureExtractor
from socialdesk_classifier.nlp.incidents import IncidentLinker
from socialdesk_classifier.nlp.join_model import TreeEnsemble
from socialdesk_classifier.nlp.join_training import train_joiner
from socialdesk_classifier.nlp.priority_calibration import CalibrationExample
from socialdesk_classifier.nlp.settings import ClassifierSettings
from socialdesk_classifier.nlp.training import SEALED_FILES, load_labelled, train_model, training_files
from socialdesk_classifier.nlp.types import CATEGORY_QUEUE, Post

__all__ = [
    "TARGETS",
    "EvalReport",
    "cross_validate",
    "evaluate_holdout",
    "format_report",
    "leave_one_set_out",
]

FIELDS = ("queue", "category", "priority", "sentiment", "auto_reply", "language")

#: The acceptance targets (metric name -> minimum); issue 14 raised priority to 0.85 and
#: auto-reply precision to 0.97.
TARGETS: dict[str, float] = {
    "queue_macro_f1": 0.90,
    "category_accuracy": 0.80,
    "priority_accuracy": 0.85,
    "safety_legal_recall": 0.95,
    "auto_reply_precision": 0.97,
    "group_pair_precision": 0.90,
    "group_pair_recall": 0.80,
}


@dataclass
class EvalReport:
    """Headline metrics, per-field and per-class figures, and the misclassified posts."""

    n_posts: int
    folds: int
    headline: dict[str, float]
    fields: dict[str, dict[str, float]]
    per_class: dict[str, dict[str, dict[str, float]]]
    errors: list[dict[str, Any]] = field(default_factory=list)
    source: str = "dev"

    def passed(self) -> dict[str, bool]:
        """Which targets are met."""
        return {k: self.headline.get(k, 0.0) >= v for k, v in TARGETS.items()}


def _prf(gold: Sequence[str], pred: Sequence[str]) -> dict[str, dict[str, float]]:
    labels = sorted(set(gold) | set(pred))
    out: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[label] = {"precision": prec, "recall": rec, "f1": f1, "support": float(tp + fn)}
    return out


def _folds(rows: Sequence[dict[str, Any]], k: int, seed: int) -> list[int]:
    """Fold index per row, stratified by category so every fold sees every class."""
    by_cat: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_cat[row["category"]].append(i)
    rng = random.Random(seed)
    fold_of = [0] * len(rows)
    offset = 0
    for cat in sorted(by_cat):
        idx = by_cat[cat]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold_of[i] = (j + offset) % k
        offset += len(idx)
    return fold_of


def group_pairs(ids: Sequence[str], groups: Sequence[str | None]) -> set[tuple[str, str]]:
    """All unordered id pairs that share a (non-null) group."""
    members: dict[str, list[str]] = defaultdict(list)
    for i, g in zip(ids, groups, strict=True):
        if g:
            members[g].append(i)
    return {(a, b) if a < b else (b, a) for m in members.values() for a, b in combinations(m, 2)}


def cross_validate(
    *, data_dir: Path = DATA_DIR, k: int = 5, seed: int = 13, settings: ClassifierSettings | None = None
) -> EvalReport:
    """Run k-fold CV over every training file and return the report."""
    settings = settings or ClassifierSettings()
    files = training_files(data_dir)
    per_file = [load_labelled([f]) for f in files]
    rows = [r for part in per_file for r in part]
    analyser = build_analyser(data_dir)
    templates = load_templates(data_dir / "templates.yaml", cues=analyser.lexicon.names)
    fold_of = _folds(rows, k, seed)
    names = [f.name for f, part in zip(files, per_file, strict=True) for _ in part]
    preds: list[dict[str, Any]] = [{} for _ in rows]
    for fold in range(k):
        train_rows = [r for r, f in zip(rows, fold_of, strict=True) if f != fold]
        model = train_model(train_rows, analyser)
        held = {(n, r["id"]) for n, r, f in zip(names, rows, fold_of, strict=True) if f == fold}
        clf = _scorer(analyser, model, templates, settings, data_dir, _posts_in(held))
        for i, row in enumerate(rows):
            if fold_of[i] == fold:
                preds[i] = _predict(clf, row)
    # Grouping: one pass per file; incident ids and group ids are per file.
    groups: list[str | None] = []
    gold: list[dict[str, Any]] = []
    at = 0
    for path, part in zip(files, per_file, strict=True):
        timed = all("created_at" in r for r in part)
        found = _group(part, preds[at : at + len(part)], analyser, settings, data_dir, timed=timed)
        groups.extend(f"{path.name}:{g}" if g else None for g in found)
        gold.extend(
            {**r, "incident": f"{path.name}:{r['incident']}" if r.get("incident") else None} for r in part
        )
        at += len(part)
    return _score(gold, preds, groups, folds=k, source=f"{len(files)} training files")


def leave_one_set_out(
    name: str, *, data_dir: Path = DATA_DIR, settings: ClassifierSettings | None = None
) -> EvalReport:
    """Score development set ``name`` with a model trained on every other training file."""
    settings = settings or ClassifierSettings()
    path = data_dir / name
    files = [f for f in training_files(data_dir) if f.name != name]
    return _evaluate(path, files, data_dir, settings, timed=True, shuffle_seed=None, trained="all other sets")


def _scorer(
    analyser: Any,
    model: Any,
    templates: Any,
    settings: ClassifierSettings,
    data_dir: Path,
    leave_out: Callable[[str, CalibrationExample], bool],
) -> Classifier:
    """A classifier without grouping for ``model``, its priority calibration fitted on every
    out-of-fold decision but those ``leave_out`` names (file name, example)."""
    calibrator = calibrator_leaving_out(data_dir, analyser, settings, leave_out)
    return Classifier(
        analyser=analyser,
        model=model,
        templates=templates,
        grouper=None,
        settings=settings,
        calibrator=calibrator,
    )


def _posts_in(held: set[tuple[str, str]]) -> Callable[[str, CalibrationExample], bool]:
    """Leave out the examples of these (file name, post id)s."""
    return lambda name, example: (name, example.post_id) in held


def _predict(clf: Classifier, row: dict[str, Any]) -> dict[str, Any]:
    d = clf.classify(Post.from_mapping(row))
    return {
        "queue": d.queue,
        "category": d.category,
        "priority": d.priority,
        "sentiment": d.sentiment,
        "auto_reply": d.auto_reply or "none",
        "language": d.language,
        "reasons": d.reasons,
        "incident_p": d.confidence.get("incident", 0.0),
    }


def _group(
    rows: Sequence[dict[str, Any]],
    preds: Sequence[dict[str, Any]],
    analyser: Any,
    settings: ClassifierSettings,
    data_dir: Path,
    *,
    timed: bool,
    joiner: TreeEnsemble | None = None,
) -> list[str | None]:
    """Group ids in file order: from ``created_at`` when ``timed``, else one second apart.
    The rules alone when ``joiner`` is None, else the rules and learned joins."""
    rules = Grouper(SignatureExtractor.from_file(data_dir / "grouping.yaml"), settings.grouping)
    grouper = IncidentLinker(rules, joiner, settings.grouping)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    groups: list[str | None] = []
    for i, row in enumerate(rows):
        if preds[i]["category"] in ("spam", "unknown"):
            groups.append(None)
            continue
        data = row if timed else {k: v for k, v in row.items() if k != "created_at"}
        post = Post.from_mapping(data, default_time=start + timedelta(seconds=i))
        analysis = analyser.analyse(post)
        assigned = grouper.assign(
            brand=post.brand,
            text=analysis.clean.text,
            at=post.created_at,
            category=preds[i]["category"],
            # as Classifier.classify reads it (the language filters capitalised names)
            signature=grouper.extractor.extract(analysis.clean.text, language=analysis.language),
            incident_p=preds[i].get("incident_p", 0.0),
        )
        groups.append(assigned.group_id)
    return groups


def evaluate_holdout(
    *,
    data_dir: Path = DATA_DIR,
    path: Path | None = None,
    timed: bool = True,
    shuffle_seed: int | None = None,
    settings: ClassifierSettings | None = None,
) -> EvalReport:
    """Train on every training file and score the held-out file (a sealed set by default).

    ``timed=False`` drops ``created_at`` (posts one second apart in file order, as the dev and
    hidden sets arrive); ``shuffle_seed`` scatters the file order first, so incident posts are
    no longer adjacent (the dev set's layout).
    """
    settings = settings or ClassifierSettings()
    path = path or data_dir / SEALED_FILES[0]
    files = training_files(data_dir)
    if path.resolve() in {f.resolve() for f in files}:
        raise ValueError(f"{path} is a training file: it cannot be a held-out set")
    return _evaluate(path, files, data_dir, settings, timed=timed, shuffle_seed=shuffle_seed, trained="all")


def _evaluate(
    path: Path,
    files: Sequence[Path],
    data_dir: Path,
    settings: ClassifierSettings,
    *,
    timed: bool,
    shuffle_seed: int | None,
    trained: str,
) -> EvalReport:
    rows = load_labelled([path])
    if shuffle_seed is not None:
        rows = list(rows)
        random.Random(shuffle_seed).shuffle(rows)
    analyser = build_analyser(data_dir)
    model = train_model(load_labelled(files), analyser)
    templates = load_templates(data_dir / "templates.yaml", cues=analyser.lexicon.names)
    trained_on = {f.name for f in files}
    clf = _scorer(analyser, model, templates, settings, data_dir, lambda n, e: n not in trained_on)
    preds = [_predict(clf, row) for row in rows]
    joiner = train_joiner(
        files, analyser, model, data_dir, settings, incident_p=incident_cache(data_dir, analyser)
    )
    groups = _group(rows, preds, analyser, settings, data_dir, timed=timed, joiner=joiner)
    return _score(rows, preds, groups, folds=0, source=f"{path.name} (model trained on {trained})")


def _score(
    dev: Sequence[dict[str, Any]],
    preds: Sequence[dict[str, Any]],
    groups: Sequence[str | None],
    *,
    folds: int,
    source: str = "dev",
) -> EvalReport:
    ids = [r["id"] for r in dev]
    gold_pairs = group_pairs(ids, [r.get("incident") for r in dev])
    pred_pairs = group_pairs(ids, groups)
    tp = len(gold_pairs & pred_pairs)

    fields: dict[str, dict[str, float]] = {}
    per_class: dict[str, dict[str, dict[str, float]]] = {}
    for name in FIELDS:
        gold = [(r.get(name) or "none") if name != "queue" else CATEGORY_QUEUE[r["category"]] for r in dev]
        pred = [p[name] for p in preds]
        pcs = _prf(gold, pred)
        per_class[name] = pcs
        gold_labels = set(gold)
        fields[name] = {
            "accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold),
            "macro_f1": sum(v["f1"] for lbl, v in pcs.items() if lbl in gold_labels) / len(gold_labels),
        }
    crit = [i for i, r in enumerate(dev) if r["category"] in ("safety", "legal")]
    ar_pred = [i for i, p in enumerate(preds) if p["auto_reply"] != "none"]
    ar_gold = [i for i, r in enumerate(dev) if r.get("auto_reply")]
    headline = {
        "queue_macro_f1": fields["queue"]["macro_f1"],
        "category_accuracy": fields["category"]["accuracy"],
        "priority_accuracy": fields["priority"]["accuracy"],
        "sentiment_accuracy": fields["sentiment"]["accuracy"],
        "language_accuracy": fields["language"]["accuracy"],
        "safety_legal_recall": sum(preds[i]["category"] == dev[i]["category"] for i in crit) / len(crit),
        "safety_legal_recall_either": sum(preds[i]["category"] in ("safety", "legal") for i in crit)
        / len(crit),
        "auto_reply_precision": (
            sum(preds[i]["auto_reply"] == dev[i].get("auto_reply") for i in ar_pred) / len(ar_pred)
            if ar_pred
            else 0.0
        ),
        "auto_reply_recall": (
            sum(preds[i]["auto_reply"] == dev[i].get("auto_reply") for i in ar_gold) / len(ar_gold)
            if ar_gold
            else 0.0
        ),
        "group_pair_precision": tp / len(pred_pairs) if pred_pairs else 0.0,
        "group_pair_recall": tp / len(gold_pairs) if gold_pairs else 0.0,
    }
    errors = []
    for i, (row, p) in enumerate(zip(dev, preds, strict=True)):
        wrong = {
            f: (row.get(f) or "none", p[f])
            for f in ("category", "priority", "sentiment", "auto_reply")
            if (row.get(f) or "none") != p[f]
        }
        if wrong:
            errors.append({"id": row["id"], "text": row["text"][:140], "wrong": wrong, "group": groups[i]})
    return EvalReport(len(dev), folds, headline, fields, per_class, errors, source)


def format_report(report: EvalReport, *, show_errors: bool = False) -> str:
    """Human-readable report (what ``make eval`` prints)."""
    if report.folds:
        title = (
            f"socialdesk classifier: {report.folds}-fold cross-validation on {report.n_posts} posts"
            f" of {report.source}"
        )
    else:
        title = f"socialdesk classifier: {report.n_posts} posts of {report.source}"
    lines = [title, ""]
    lines.append("Targets")
    passed = report.passed()
    for name, minimum in TARGETS.items():
        mark = "PASS" if passed[name] else "FAIL"
        lines.append(f"  {name:<26} {report.headline[name]:.3f}  (target >= {minimum:.2f})  {mark}")
    lines.append("")
    lines.append("Other headline figures")
    for name, value in report.headline.items():
        if name not in TARGETS:
            lines.append(f"  {name:<26} {value:.3f}")
    lines.append("")
    lines.append("Per field                accuracy  macro-F1")
    for name, v in report.fields.items():
        lines.append(f"  {name:<22} {v['accuracy']:.3f}     {v['macro_f1']:.3f}")
    for name, classes in report.per_class.items():
        lines.append("")
        lines.append(f"{name}: per class          precision  recall  f1     support")
        for label, v in classes.items():
            lines.append(
                f"  {label:<24} {v['precision']:.3f}      {v['recall']:.3f}   {v['f1']:.3f}  {int(v['support'])}"
            )
    if show_errors:
        lines.append("")
        lines.append(f"Errors ({len(report.errors)} posts)")
        counts: Counter[str] = Counter()
        for err in report.errors:
            counts.update(err["wrong"].keys())
            lines.append(f"  {err['id']} {err['wrong']} | {err['text']}")
        lines.append(f"  by field: {dict(counts)}")
    return "\n".join(lines)
