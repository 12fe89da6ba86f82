"""Training the learned joins (decision 0110): examples from replaying the labelled sets.

Each timed labelled file is replayed through an :class:`IncidentLinker` whose chooser is the
labels: every post the rules leave alone is scored against the recent incidents, each
candidate row labelled by whether most of that incident's posts so far belong to the post's
incident, and the post joins the right one if it is among them (the state a good model
would build). The trees are a bag: each member fit on the files drawn with replacement
(decision 0112).

The ``post_incident_p`` feature must look like it will in production, where the incident head
never saw the post: each file's posts are scored by an incident head trained on the other
folds of files (:func:`incident_out_of_fold`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socialdesk_classifier.nlp.features import Analyser, feature_tokens
from socialdesk_classifier.nlp.grouping import Grouper
from socialdesk_classifier.nlp.incidents import Incident, IncidentLinker
from socialdesk_classifier.nlp.join_model import TreeEnsemble
from socialdesk_classifier.nlp.model import LinearModel, fit_linear_model
from socialdesk_classifier.nlp.settings import ClassifierSettings, GroupingSettings
from socialdesk_classifier.nlp.signature import SignatureExtractor
from socialdesk_classifier.nlp.training import incident_label, load_labelled
from socialdesk_classifier.nlp.types import Post

__all__ = ["incident_by_file", "incident_out_of_fold", "join_examples", "timed_parts", "train_joiner"]


def incident_out_of_fold(
    parts: Sequence[Sequence[dict[str, Any]]], analyser: Analyser, *, folds: int = 3
) -> list[list[float]]:
    """Each file's posts scored by an incident head trained on the other folds of files."""
    docs = [[feature_tokens(p, analyser.analyse(p)) for p in map(Post.from_mapping, part)] for part in parts]
    labels = [[incident_label(r) for r in part] for part in parts]
    out: list[list[float]] = [[] for _ in parts]
    for fold in range(folds):
        train = [i for i in range(len(parts)) if i % folds != fold]
        model = fit_linear_model(
            [d for i in train for d in docs[i]], {"incident": [y for i in train for y in labels[i]]}
        )
        for i in range(fold, len(parts), folds):
            out[i] = [model.predict(d)["incident"].get("yes", 0.0) for d in docs[i]]
    return out


def join_examples(
    rows: Sequence[dict[str, Any]],
    categories: Sequence[str],
    incident_p: Sequence[float],
    analyser: Analyser,
    extractor: SignatureExtractor,
    settings: GroupingSettings,
) -> tuple[list[list[float]], list[bool]]:
    """Feature rows and labels from replaying one timed file with the labels as chooser."""
    xs: list[list[float]] = []
    ys: list[bool] = []
    members: dict[str, Counter[str]] = {}
    current: list[str | None] = [None]

    def chooser(features: np.ndarray, candidates: Sequence[Incident]) -> int | None:
        pick = None
        for i, inc in enumerate(candidates):
            seen = members.get(inc.group.group_id)
            right = bool(current[0]) and seen is not None and seen.most_common(1)[0][0] == current[0]
            xs.append(features[i].tolist())
            ys.append(right)
            if right and pick is None:
                pick = i
        return pick

    linker = IncidentLinker(Grouper(extractor, settings), None, settings, chooser=chooser)
    for row, category, p in zip(rows, categories, incident_p, strict=True):
        if category in ("spam", "unknown"):
            continue
        post = Post.from_mapping(row)
        current[0] = row.get("incident")
        analysis = analyser.analyse(post)
        found = linker.assign(
            brand=post.brand,
            text=analysis.clean.text,
            at=post.created_at,
            category=category,
            signature=extractor.extract(analysis.clean.text, language=analysis.language),
            incident_p=p,
        )
        if found.group_id is not None and current[0]:
            members.setdefault(found.group_id, Counter())[current[0]] += 1
    return xs, ys


def timed_parts(files: Sequence[Path]) -> dict[str, list[dict[str, Any]]]:
    """The labelled files whose every post carries ``created_at`` (a stream to replay), by name."""
    parts = {f.name: load_labelled([f]) for f in files}
    return {name: rows for name, rows in parts.items() if rows and all("created_at" in r for r in rows)}


def incident_by_file(
    parts: Mapping[str, Sequence[dict[str, Any]]], analyser: Analyser
) -> dict[str, list[float]]:
    """Each file's posts scored by an incident head trained on the other folds of files."""
    return dict(zip(parts, incident_out_of_fold(list(parts.values()), analyser), strict=True))


def train_joiner(
    files: Sequence[Path],
    analyser: Analyser,
    model: LinearModel,
    data_dir: Path,
    settings: ClassifierSettings,
    *,
    meta: str = "",
    incident_p: Mapping[str, list[float]] | None = None,
) -> TreeEnsemble:
    """Fit the join trees on the timed ``files``: categories from ``model``; the incident
    probabilities out of fold (``incident_p`` by file name when given, else computed here)."""
    from socialdesk_classifier.nlp.autoreply import load_templates
    from socialdesk_classifier.nlp.classifier import Classifier

    parts = timed_parts(files)
    clf = Classifier(
        analyser=analyser,
        model=model,
        templates=load_templates(data_dir / "templates.yaml", cues=analyser.lexicon.names),
        grouper=None,
        settings=settings,
    )
    scored = incident_p if incident_p is not None else incident_by_file(parts, analyser)
    extractor = SignatureExtractor.from_file(data_dir / "grouping.yaml")
    examples: list[tuple[np.ndarray, np.ndarray]] = []
    for name, rows in parts.items():
        categories = [clf.classify(Post.from_mapping(r)).category for r in rows]
        x, y = join_examples(rows, categories, scored[name], analyser, extractor, settings.grouping)
        if x:
            examples.append((np.array(x, dtype=np.float64), np.array(y)))
    return TreeEnsemble.fit_bagged(examples, meta=meta)
