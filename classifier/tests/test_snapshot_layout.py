"""A snapshot of an older grouping layout is not restored (the replay refills the groups)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from socialdesk_classifier.domain import Engine
from socialdesk_classifier.nlp import Post, load_default_classifier

T0 = datetime(2025, 7, 1, 12, tzinfo=UTC)


def _post(text: str) -> Post:
    return Post(
        id="p", brand="ourbus", platform="x", kind="mention", author_followers=5, text=text, created_at=T0
    )


def test_older_grouper_layout_is_not_restored() -> None:
    old = Engine(load_default_classifier())
    assert old.classifier.grouper is not None
    old.classifier.classify(_post("bus broke down on I-81 near Binghamton"))
    old.classifier.grouper.state_version = 1  # as an older release pickled it
    blob = pickle.dumps((old.classifier.grouper, old.trends, old.spikes), protocol=5)
    fresh = Engine(load_default_classifier())
    before = fresh.classifier.grouper
    fresh.restore(blob)
    assert fresh.classifier.grouper is before
    assert len(fresh.classifier.grouper) == 0


def test_current_layout_is_restored() -> None:
    old = Engine(load_default_classifier())
    old.classifier.classify(_post("bus broke down on I-81 near Binghamton"))
    fresh = Engine(load_default_classifier())
    fresh.restore(old.snapshot())
    assert fresh.classifier.grouper is not None and len(fresh.classifier.grouper) == 1


def test_a_restore_keeps_this_release_s_rules_and_join_model() -> None:
    """A snapshot carries the open groups only: a release's lexicon, settings and join model
    apply to the groups it restores (and the snapshot stays small)."""
    old = Engine(load_default_classifier())
    old.classifier.classify(_post("bus broke down on I-81 near Binghamton"))
    blob = old.snapshot()
    assert b"TreeEnsemble" not in blob and b"SignatureExtractor" not in blob
    fresh = Engine(load_default_classifier())
    linker = fresh.classifier.grouper
    assert linker is not None
    model, extractor = linker._model, linker.extractor  # type: ignore[union-attr]
    fresh.restore(blob)
    assert fresh.classifier.grouper is linker and len(linker) == 1
    assert linker._model is model and linker.extractor is extractor  # type: ignore[union-attr]
