"""The rules engine's prefilter is exact, the model artifact is fresh and round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from socialdesk_classifier.nlp.classifier import DATA_DIR
from socialdesk_classifier.nlp.join_model import TreeEnsemble
from socialdesk_classifier.nlp.model import LinearModel, fit_linear_model
from socialdesk_classifier.nlp.rules import Lexicon, load_lexicon
from socialdesk_classifier.nlp.signature import SignatureExtractor
from socialdesk_classifier.nlp.text import clean
from socialdesk_classifier.nlp.training import (
    DEVELOPMENT_FILES,
    SEALED_FILES,
    fingerprint,
    load_labelled,
    training_files,
)


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon(DATA_DIR / "lexicon.yaml")


def _texts() -> list[str]:
    out = []
    for path in training_files(DATA_DIR):
        with path.open(encoding="utf-8") as fh:
            out.extend(json.loads(line)["text"] for line in fh if line.strip())
    return out


def test_prefilter_gives_exactly_the_brute_force_result(lexicon: Lexicon) -> None:
    """The literal prefilter is an optimisation only: same cues as running every regex."""
    texts = [clean(t).text for t in _texts()]
    assert len(texts) > 500
    for text in texts:
        fast = lexicon.match(text)
        for cue in lexicon._cues:
            brute = any(p.regex.search(text.lower() if p.on_lower else text) for p in cue.patterns) and not (
                cue.unless is not None and cue.unless.search(text)
            )
            assert (cue.name in fast) == brute, (cue.name, text)


def test_prefilter_is_exact_on_the_grouping_families_too() -> None:
    """The incident types and grouping families run through a second lexicon: same check."""
    extractor = SignatureExtractor.from_file(DATA_DIR / "grouping.yaml")
    types: Lexicon = extractor._types
    for text in (clean(t).text for t in _texts()):
        fast = types.match(text)
        for cue in types._cues:
            brute = any(p.regex.search(text.lower() if p.on_lower else text) for p in cue.patterns) and not (
                cue.unless is not None and cue.unless.search(text)
            )
            assert (cue.name in fast) == brute, (cue.name, text)


def test_every_necessary_literal_set_is_checked_before_the_regex() -> None:
    """A window pattern needs both ends: a post with only one of them never runs the regex."""
    lex = Lexicon(
        {"cues": {"drunk_driver": {"patterns": {"en": [r"\b(?:driver|captain)\b.{0,40}\b(?:drunk|high)\b"]}}}}
    )
    (pattern,) = lex._cues[0].patterns
    assert pattern.needs is not None and pattern.also
    assert "drunk_driver" in lex.match("the driver was clearly drunk")
    assert lex.match("the driver was late") == {}
    assert lex.match("drunk passengers, calm driver") == {}


def test_every_pattern_has_a_prefilter(lexicon: Lexicon) -> None:
    missing = [(c.name, p.regex.pattern) for c in lexicon._cues for p in c.patterns if p.needs is None]
    assert missing == []


def test_bad_lexicon_names_the_cue() -> None:
    with pytest.raises(ValueError, match="broken"):
        Lexicon({"cues": {"broken": {"patterns": {"en": ["(unclosed"]}}}})
    with pytest.raises(ValueError, match="cues"):
        Lexicon({"cues": {}})


def test_model_artifact_is_fresh() -> None:
    """Editing training data or the lexicon without retraining fails here, not in production."""
    model = LinearModel.load(DATA_DIR / "model.npz")
    expected = fingerprint([*training_files(DATA_DIR), DATA_DIR / "lexicon.yaml"])
    assert model.meta == expected, "run `python -m socialdesk_classifier.cli train`"
    # a few MB at most: session 11 more than doubled the training posts (8,877 -> 2.2 MB)
    assert (DATA_DIR / "model.npz").stat().st_size < 4_000_000
    # the learned joins read the incident head and the grouping rules' output (decision 0110)
    joiner = TreeEnsemble.load(DATA_DIR / "join.npz")
    assert joiner.meta == fingerprint(
        [*training_files(DATA_DIR), DATA_DIR / "lexicon.yaml", DATA_DIR / "grouping.yaml"]
    )


def test_linear_model_learns_and_round_trips(tmp_path: Path) -> None:
    docs = [["w:late", "w:bus"], ["w:thanks", "w:great"], ["w:late", "w:again"], ["w:great", "w:driver"]] * 3
    targets = {"sentiment": ["negative", "positive", "negative", "positive"] * 3}
    model = fit_linear_model(docs, targets, min_df=1)
    p = model.predict(["w:late"])["sentiment"]
    assert p["negative"] > 0.7
    model.save(tmp_path / "m.npz")
    again = LinearModel.load(tmp_path / "m.npz")
    q = again.predict(["w:late"])["sentiment"]
    assert np.isclose(p["negative"], q["negative"], atol=1e-3)  # float16 storage
    assert again.predict([])["sentiment"].keys() == {"negative", "positive"}


def test_sealed_sets_are_never_training_files() -> None:
    """The sealed sets are the honest check: training never reads them, nor a post of theirs."""
    train = {p.name for p in training_files(DATA_DIR)}
    assert SEALED_FILES and not train & set(SEALED_FILES)
    assert set(DEVELOPMENT_FILES) <= train
    train_ids = {
        json.loads(line)["id"] for p in training_files(DATA_DIR) for line in p.open() if line.strip()
    }
    for name in SEALED_FILES:
        with (DATA_DIR / name).open(encoding="utf-8") as fh:
            sealed = [json.loads(line) for line in fh if line.strip()]
        assert len(sealed) >= 200
        assert not train_ids & {r["id"] for r in sealed}
        # Two writers can word a short ask ("??") or a plain FAQ alike; more would be a copy.
        same = {r["text"] for r in load_labelled(training_files(DATA_DIR))} & {
            r["text"] for r in sealed if len(r["text"]) >= 20
        }
        assert len(same) <= len(sealed) // 100


def test_feature_indexer_matches_feature_tokens() -> None:
    """The cached runtime path sees exactly the features training saw."""
    from socialdesk_classifier.nlp.classifier import build_analyser
    from socialdesk_classifier.nlp.features import FeatureIndexer, feature_tokens
    from socialdesk_classifier.nlp.types import Post

    model = LinearModel.load(DATA_DIR / "model.npz")
    analyser = build_analyser(DATA_DIR)
    indexer = FeatureIndexer(model.index, max_words=50)  # small: exercises the cache reset
    texts = [*_texts()[:300], "x" * 3000, "word " * 2000, ""]
    for i, text in enumerate(texts):
        post = Post(id=str(i), brand="ourbus", platform="x", kind="dm", author_followers=i, text=text)
        analysis = analyser.analyse(post)
        want = {model.index[t] for t in feature_tokens(post, analysis) if t in model.index}
        assert indexer.indices(post, analysis) == want, text[:80]


def test_lower_case_patterns_run_on_the_lower_cased_text_and_keep_the_posts_case() -> None:
    from socialdesk_classifier.nlp.rules import Lexicon

    lex = Lexicon(
        {
            "cues": {
                "late": {"patterns": {"en": ["\\bbus (is|was) late\\b"]}},
                "shout": {"patterns": {"en": ["\\bNOW\\S*"]}},
            }
        }
    )
    hits = lex.match("The BUS WAS LATE, fix it NOW!!")
    assert hits["late"].snippet == "BUS WAS LATE"
    assert hits["shout"].snippet == "NOW!!"
    assert set(lex.match("the bus was late, fix it now")) == {"late", "shout"}
