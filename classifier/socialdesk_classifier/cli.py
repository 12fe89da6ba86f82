"""Command line for the classifier library.

    python -m socialdesk_classifier.cli classify IN.jsonl OUT.jsonl   # make classify
    python -m socialdesk_classifier.cli eval [--errors] [--json]      # make eval: CV, dev sets, sealed sets
    python -m socialdesk_classifier.cli eval --holdout [--untimed]    # train on all, score a sealed set
    python -m socialdesk_classifier.cli train                         # rebuild data/model.npz

``classify`` runs the same code path as the service: one :class:`Classifier` over the file
in order, so grouping state carries across lines. A malformed line gets an error object in
the output and the run goes on; only an unreadable input file (or unwritable output) makes
the exit status non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["main"]

_START = datetime(2025, 1, 1, tzinfo=UTC)


def _classify(in_path: Path, out_path: Path) -> int:
    from socialdesk_classifier.nlp import Post, load_default_classifier

    try:
        raw = in_path.read_bytes()
    except OSError as exc:
        print(f"cannot read {in_path}: {exc}", file=sys.stderr)
        return 2
    clf = load_default_classifier()
    # Decode leniently: one bad byte must not cost the whole file.
    lines = raw.decode("utf-8", errors="replace").splitlines()
    n_ok = n_err = 0
    last: datetime | None = None
    try:
        out = out_path.open("w", encoding="utf-8")
    except OSError as exc:
        print(f"cannot write {out_path}: {exc}", file=sys.stderr)
        return 2
    with out:
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            record: dict[str, Any]
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("line is not a JSON object")
                # A line without created_at comes one second after the line before it, so a
                # file mixing timed and untimed lines keeps its order in time.
                default = (
                    last + timedelta(seconds=1)
                    if last is not None
                    else _START + timedelta(seconds=lineno - 1)
                )
                post = Post.from_mapping(data, default_time=default)
                last = post.created_at
                decision = clf.classify(post)
                record = {"id": post.id, **decision.as_dict()}
                n_ok += 1
            except Exception as exc:
                ident = None
                with contextlib.suppress(Exception):
                    ident = json.loads(line).get("id")
                record = {"id": ident, "line": lineno, "error": f"{type(exc).__name__}: {exc}"}
                n_err += 1
            # ASCII escapes: an id with a lone surrogate still yields valid JSON, never a crash.
            out.write(json.dumps(record) + "\n")
    print(f"classified {n_ok} posts, {n_err} malformed lines -> {out_path}", file=sys.stderr)
    return 0


def _eval(
    show_errors: bool, as_json: bool, folds: int, holdout: Path | None = None, untimed: bool = False
) -> int:
    from socialdesk_classifier.nlp.classifier import DATA_DIR
    from socialdesk_classifier.nlp.evaluation import (
        cross_validate,
        evaluate_holdout,
        format_report,
        leave_one_set_out,
    )
    from socialdesk_classifier.nlp.training import DEVELOPMENT_FILES, SEALED_FILES

    if holdout is not None:
        # --untimed: drop created_at and scatter the file (the dev/hidden layout) for grouping.
        report = evaluate_holdout(path=holdout, timed=not untimed, shuffle_seed=7 if untimed else None)
        if as_json:
            print(
                json.dumps({"headline": report.headline, "fields": report.fields, "passed": report.passed()})
            )
        else:
            print(format_report(report, show_errors=show_errors))
        return 0
    report = cross_validate(k=folds)
    dev = {name: leave_one_set_out(name) for name in DEVELOPMENT_FILES if (DATA_DIR / name).exists()}
    sealed = {
        name: evaluate_holdout(path=DATA_DIR / name) for name in SEALED_FILES if (DATA_DIR / name).exists()
    }
    if as_json:
        out: dict[str, Any] = {
            "headline": report.headline,
            "fields": report.fields,
            "passed": report.passed(),
            "dev": {name: {"headline": r.headline, "fields": r.fields} for name, r in dev.items()},
            "sealed": {
                name: {"headline": r.headline, "fields": r.fields, "passed": r.passed()}
                for name, r in sealed.items()
            },
        }
        print(json.dumps(out))
        return 0
    print(format_report(report, show_errors=show_errors))
    for name, dev_report in dev.items():
        print()
        print("=" * 78)
        print(f"Development set {name}: read while writing rules; scored by a model trained on the")
        print("other sets (leave one set out); timed by created_at.")
        print(format_report(dev_report, show_errors=False))
    for name, sealed_report in sealed.items():
        print()
        print("=" * 78)
        print(f"HONEST SET {name}: written from the taxonomy alone before the rules it scores")
        print("were changed, never trained on; timed by created_at. Errors are never listed.")
        print(format_report(sealed_report, show_errors=False))
    return 0


def _train() -> int:
    from socialdesk_classifier.nlp.classifier import DATA_DIR, build_analyser
    from socialdesk_classifier.nlp.join_training import train_joiner
    from socialdesk_classifier.nlp.priority_calibration import PriorityCalibrator, calibration_examples
    from socialdesk_classifier.nlp.settings import ClassifierSettings
    from socialdesk_classifier.nlp.training import fingerprint, load_labelled, train_model, training_files

    files = training_files(DATA_DIR)
    rows = load_labelled(files)
    analyser = build_analyser(DATA_DIR)
    # The lexicon shapes the features (cue tokens), so it is part of the fingerprint too.
    model = train_model(rows, analyser, meta=fingerprint([*files, DATA_DIR / "lexicon.yaml"]))
    path = DATA_DIR / "model.npz"
    model.save(path)
    print(f"trained on {len(rows)} posts from {len(files)} files; {len(model.vocab)} features -> {path}")
    # The joins and the calibration also read what grouping.yaml's incident types report.
    meta = fingerprint([*files, DATA_DIR / "lexicon.yaml", DATA_DIR / "grouping.yaml"])
    joiner = train_joiner(files, analyser, model, DATA_DIR, ClassifierSettings(), meta=meta)
    joiner.save(DATA_DIR / "join.npz")
    print(f"learned joins: {joiner.n_trees} trees of depth {joiner.depth} -> {DATA_DIR / 'join.npz'}")
    examples = [e for v in calibration_examples(files, analyser, DATA_DIR).values() for e in v]
    calibrator = PriorityCalibrator.fit(examples, meta=meta)
    calibrator.save(DATA_DIR / "priority.npz")
    print(
        f"priority calibration: {len(examples)} decisions, {len(calibrator.rules)} rules"
        f" -> {DATA_DIR / 'priority.npz'}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="socialdesk_classifier.cli", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_cls = sub.add_parser("classify", help="classify a JSONL file of posts")
    p_cls.add_argument("input", type=Path)
    p_cls.add_argument("output", type=Path)
    p_eval = sub.add_parser("eval", help="CV on the training files, leave-one-set-out dev sets, sealed sets")
    p_eval.add_argument("--errors", action="store_true", help="list misclassified posts")
    p_eval.add_argument("--json", action="store_true", help="print one JSON object")
    p_eval.add_argument("--folds", type=int, default=5)
    p_eval.add_argument(
        "--holdout",
        nargs="?",
        type=Path,
        const=Path(__file__).resolve().parents[1] / "data" / "eval_sealed17.jsonl",
        default=None,
        help="train on every training file and score this held-out file (default data/eval_sealed17.jsonl)",
    )
    p_eval.add_argument(
        "--untimed", action="store_true", help="with --holdout: ignore created_at and shuffle the file order"
    )
    sub.add_parser("train", help="retrain data/model.npz from data/*.jsonl")
    args = parser.parse_args(argv)
    if args.command == "classify":
        return _classify(args.input, args.output)
    if args.command == "eval":
        return _eval(args.errors, args.json, args.folds, args.holdout, args.untimed)
    return _train()


if __name__ == "__main__":
    raise SystemExit(main())
