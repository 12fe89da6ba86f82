"""Priority calibrated over the named factors by a learned model (decision 0111)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialdesk_classifier.nlp import ClassifierSettings, Post, eval_cache, load_default_classifier
from socialdesk_classifier.nlp.classifier import DATA_DIR
from socialdesk_classifier.nlp.priority import LEVELS, PriorityDecision
from socialdesk_classifier.nlp.priority_calibration import CalibrationExample, PriorityCalibrator, rule_key
from socialdesk_classifier.nlp.settings import ClassifierSettings as Settings
from socialdesk_classifier.nlp.training import fingerprint, training_files

_NOW = "time pressure: now ('leaving in 20 min')"


def _post(followers: int = 50, kind: str = "mention") -> Post:
    return Post(id="p", brand="ourbus", platform="x", kind=kind, author_followers=followers, text="x")


def _examples(rule: str, level: str, gold: str, n: int, *, head: str = "high") -> list[CalibrationExample]:
    probs = {lv: (0.7 if lv == head else 0.1) for lv in LEVELS}
    return [
        CalibrationExample(rule, level, probs, "complaint", 50, False, gold, f"{rule}{i}") for i in range(n)
    ]


def _fitted() -> PriorityCalibrator:
    # "now" is high for most posts, critical when the head says so; "furious" is medium
    now = rule_key(_NOW)
    examples = (
        _examples(now, "high", "high", 40)
        + _examples(now, "high", "critical", 40, head="critical")
        + _examples("tone: openly furious (…)", "high", "medium", 40, head="medium")
        + _examples("a request with no trip today", "medium", "low", 10, head="low")
    )
    return PriorityCalibrator.fit(examples)


def test_a_rule_is_its_factor_without_what_it_quotes() -> None:
    assert rule_key(_NOW) == "time pressure: now (…)"
    assert rule_key("about a trip of the asker's own ('mi boleto')") == "about a trip of the asker's own (…)"
    assert rule_key("audience: public complaint from 25000 followers (>= 20000)") == (
        "audience: public complaint from # followers (…)"
    )
    assert rule_key("tone: openly furious ('don't')") == "tone: openly furious (…)"


def test_the_calibration_learns_the_labellers_level_and_keeps_the_factor() -> None:
    cal = _fitted()
    probs = {"low": 0.1, "medium": 0.7, "high": 0.1, "critical": 0.1}
    furious = PriorityDecision("high", 0.8, ("tone: openly furious ('so done')",))
    got = cal.calibrate(furious, _post(), "complaint", probs)
    assert got.level == "medium"
    assert got.factors[0] == furious.factors[0]  # the factor stays the why
    assert got.factors[-1].startswith("calibrated from high")
    # where labellers agree with the factor, the level stands and no calibration is named
    now = PriorityDecision("high", 0.8, (_NOW,))
    kept = cal.calibrate(now, _post(), "complaint", {"low": 0.1, "medium": 0.1, "high": 0.7, "critical": 0.1})
    assert kept.level == "high" and kept.factors == now.factors
    raised = cal.calibrate(
        now, _post(), "complaint", {"low": 0.1, "medium": 0.1, "high": 0.1, "critical": 0.7}
    )
    assert raised.level == "critical"


def test_the_calibration_moves_one_step_at_most_and_never_down_to_low() -> None:
    cal = _fitted()
    low = {"low": 0.97, "medium": 0.01, "high": 0.01, "critical": 0.01}
    assert (
        cal.predict(CalibrationExample("a request with no trip today", "medium", low, "request", 0, True))[
            "low"
        ]
        > 0.5
    )
    # labelled low, but a request is at least medium (the taxonomy keeps low for plain FAQs)
    decided = PriorityDecision("medium", 0.75, ("a request with no trip today",))
    assert cal.calibrate(decided, _post(), "request", low).level == "medium"
    # from high, one step at most
    decided = PriorityDecision("high", 0.8, ("a request with no trip today",))
    assert cal.calibrate(decided, _post(), "request", low).level in ("medium", "high")


@pytest.mark.parametrize(
    ("category", "decided"),
    [
        ("safety", PriorityDecision("critical", 0.99, ("category safety is always critical",))),
        ("praise", PriorityDecision("low", 0.95, ("category praise is always low",))),
        ("complaint", PriorityDecision("critical", 0.85, ("harm: account_takeover reported",))),
    ],
)
def test_levels_the_taxonomy_fixes_are_never_calibrated(category: str, decided: PriorityDecision) -> None:
    cal = _fitted()
    assert cal.calibrate(decided, _post(), category, {"medium": 1.0}) is decided


def test_the_calibration_round_trips(tmp_path: Path) -> None:
    cal = _fitted()
    cal.meta = "m"
    cal.save(tmp_path / "p.npz")
    again = PriorityCalibrator.load(tmp_path / "p.npz")
    assert again.rules == cal.rules and again.meta == "m"
    example = CalibrationExample(rule_key(_NOW), "high", {"critical": 0.6, "high": 0.3}, "query", 900, True)
    p, q = cal.predict(example), again.predict(example)
    assert all(abs(p[k] - q[k]) < 1e-5 for k in LEVELS)  # float32 storage


def test_leaving_a_set_out_leaves_its_decisions_out_of_the_calibration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = rule_key(_NOW)
    other = _examples("a request with no trip today", "medium", "low", 10, head="low")
    cache = {
        "eval_a.jsonl": _examples(now, "high", "medium", 30) + other,
        "eval_b.jsonl": _examples(now, "high", "critical", 30) + other,
    }
    monkeypatch.setattr(eval_cache, "CALIBRATION", cache)
    example = CalibrationExample(
        now, "high", {lv: (0.7 if lv == "high" else 0.1) for lv in LEVELS}, "complaint", 50, False
    )
    without_b = eval_cache.calibrator_leaving_out(
        DATA_DIR, None, Settings(), lambda n, e: n == "eval_b.jsonl"
    )
    without_a = eval_cache.calibrator_leaving_out(
        DATA_DIR, None, Settings(), lambda n, e: n == "eval_a.jsonl"
    )
    assert without_b is not None and without_a is not None
    assert max(without_b.predict(example).items(), key=lambda kv: kv[1])[0] == "medium"
    assert max(without_a.predict(example).items(), key=lambda kv: kv[1])[0] == "critical"
    assert (
        eval_cache.calibrator_leaving_out(
            DATA_DIR, None, Settings(priority_calibration=False), lambda n, e: False
        )
        is None
    )


def test_the_shipped_classifier_calibrates_and_can_be_switched_off() -> None:
    on = load_default_classifier()
    off = load_default_classifier(ClassifierSettings(priority_calibration=False))
    rows = [json.loads(line) for line in (DATA_DIR / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    moved = 0
    for row in rows:
        post = Post.from_mapping({**row, "created_at": datetime(2025, 7, 1, 12, tzinfo=UTC).isoformat()})
        a, b = on.classify(post), off.classify(post)
        assert a.category == b.category
        if a.priority != b.priority:
            line = next(r for r in a.reasons if r.startswith("priority "))
            moved += 1
            assert abs(LEVELS.index(a.priority) - LEVELS.index(b.priority)) == 1
            assert a.priority != "low"
            assert a.category in ("complaint", "query", "request")
            assert f"calibrated from {b.priority}" in line
        assert not any("calibrated" in r for r in b.reasons)
    assert 0 < moved < len(rows) // 5


def test_the_calibration_artifact_is_fresh() -> None:
    cal = PriorityCalibrator.from_data(DATA_DIR)
    assert cal.meta == fingerprint(
        [*training_files(DATA_DIR), DATA_DIR / "lexicon.yaml", DATA_DIR / "grouping.yaml"]
    )
