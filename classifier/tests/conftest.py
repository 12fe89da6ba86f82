"""Fixtures shared by the classifier's unit tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from socialdesk_classifier.nlp import (
    ClassifierSettings,
    Decision,
    Post,
    SignatureExtractor,
    load_default_classifier,
)
from socialdesk_classifier.nlp.classifier import DATA_DIR
from socialdesk_classifier.nlp.group_state import compared
from socialdesk_classifier.nlp.training import SEALED_FILES

#: Scored by the lead only: the fast-path tests compare on every other labelled post.
SEALED = frozenset(SEALED_FILES)


@pytest.fixture(scope="session")
def extractor() -> SignatureExtractor:
    """The incident-signature extractor of ``data/grouping.yaml`` (read-only once built)."""
    return SignatureExtractor.from_file(DATA_DIR / "grouping.yaml")


@pytest.fixture(scope="session")
def kinds(extractor: SignatureExtractor) -> Callable[[str], set[str]]:
    """The incident classes grouping compares for a text (its types and word families)."""

    def read(text: str) -> set[str]:
        return set(compared(extractor.extract(text), extractor.type_class).types)

    return read


@pytest.fixture(scope="session")
def development_texts() -> list[str]:
    """The text of every labelled post in ``classifier/data`` except the sealed set."""
    texts: list[str] = []
    for path in sorted(DATA_DIR.glob("*.jsonl")):
        if path.name in SEALED:
            continue
        texts.extend(
            json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line
        )
    return texts


def _mention(text: str) -> Post:
    return Post(
        id="p",
        brand="ourbus",
        platform="x",
        kind="mention",
        author_followers=40,
        text=text,
        created_at=datetime(2025, 7, 1, 12, tzinfo=UTC),
    )


@pytest.fixture(scope="session")
def mention() -> Callable[[str], Post]:
    """A text as a 40-follower OurBus mention."""
    return _mention


@pytest.fixture(scope="module")
def classify() -> Callable[[str], Decision]:
    """Classify a text as a 40-follower OurBus mention, with one classifier per test module.
    Priority is the named factors' own level (calibration off): these modules test the factors;
    ``test_priority_calibration.py`` tests the calibrated level."""
    clf = load_default_classifier(ClassifierSettings(priority_calibration=False))
    return lambda text: clf.classify(_mention(text))
