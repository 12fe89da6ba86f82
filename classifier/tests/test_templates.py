"""Auto-reply templates come from data: which brands a template serves, which question it
takes over, which cue it needs. A brand of its own is a line in ``templates.yaml``."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from socialdesk_classifier.nlp import Post, load_default_classifier
from socialdesk_classifier.nlp.autoreply import load_templates
from socialdesk_classifier.nlp.classifier import DATA_DIR, Classifier

NO_TIP_REFUND = "what's your refund policy if the ride doesn't fill?"
HOW_IT_TIPS = "how do refunds work when a ride doesn't tip?"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return load_default_classifier()


def ask(clf: Classifier, text: str, brand: str) -> tuple[str | None, list[str]]:
    d = clf.classify(
        Post(
            id="q",
            brand=brand,
            platform="x",
            kind="dm",
            author_followers=10,
            text=text,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    return d.auto_reply, d.reasons


def test_a_brand_template_takes_over_a_refund_question_for_its_brand_only(clf: Classifier) -> None:
    assert ask(clf, NO_TIP_REFUND, "rally")[0] == "rally_how_it_works"
    assert ask(clf, NO_TIP_REFUND, "ourbus")[0] == "refund_policy"
    # The take-over itself, whatever the model's head says: the head picks refund_policy.
    post = Post(id="q", brand="rally", platform="x", kind="dm", author_followers=10, text=NO_TIP_REFUND)
    analysis = clf.analyser.analyse(post)
    reasons: list[str] = []
    probs = {"refund_policy": 0.9, "rally_how_it_works": 0.05, "none": 0.05}
    chosen, _ = clf._auto_replier.choose(post, analysis, "query", 0.9, "neutral", probs, reasons, frozenset())
    assert chosen == "rally_how_it_works"
    assert "refund question about a rally not running: rally_how_it_works" in reasons


def test_a_brand_template_is_not_sent_for_another_brand(clf: Classifier) -> None:
    assert ask(clf, HOW_IT_TIPS, "rally")[0] == "rally_how_it_works"
    reply, reasons = ask(clf, HOW_IT_TIPS, "ourbus")
    assert reply is None
    assert "no auto-reply rally_how_it_works: not a template of brand ourbus" in reasons


def test_a_third_brand_is_a_data_change(tmp_path: Path) -> None:
    for name in ("lexicon.yaml", "grouping.yaml", "model.npz", "join.npz", "priority.npz", "templates.yaml"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    spec = yaml.safe_load((tmp_path / "templates.yaml").read_text(encoding="utf-8"))
    spec["rally_how_it_works"]["brands"].append("busco")
    (tmp_path / "templates.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    clf = load_default_classifier(data_dir=tmp_path)
    assert ask(clf, HOW_IT_TIPS, "busco")[0] == "rally_how_it_works"
    assert ask(clf, NO_TIP_REFUND, "busco")[0] == "rally_how_it_works"
    assert ask(clf, NO_TIP_REFUND, "ourbus")[0] == "refund_policy"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"t": {"topic": "topic_nope"}}, "template 't' names unknown cue 'topic_nope'"),
        ({"t": {"replaces": {"template": "missing", "when": "question"}}}, "replaces unknown template"),
        ({"t": {"replaces": {"template": "t"}}}, "says no 'when'"),
    ],
)
def test_a_template_naming_what_does_not_exist_is_refused(tmp_path: Path, body: object, message: str) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_templates(path, cues=frozenset({"question", "topic_refund"}))
