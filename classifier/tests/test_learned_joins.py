"""Learned joins after the grouping rules (decision 0110): the trees, the linker, training."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from socialdesk_classifier.nlp import Post, SignatureExtractor, load_default_classifier
from socialdesk_classifier.nlp.autoreply import load_templates
from socialdesk_classifier.nlp.classifier import DATA_DIR, Classifier, build_analyser
from socialdesk_classifier.nlp.evaluation import _group, _predict
from socialdesk_classifier.nlp.group_state import GroupAssignment
from socialdesk_classifier.nlp.grouping import Grouper
from socialdesk_classifier.nlp.incidents import JOIN_FEATURES, Incident, IncidentLinker
from socialdesk_classifier.nlp.join_model import TreeEnsemble
from socialdesk_classifier.nlp.join_training import join_examples
from socialdesk_classifier.nlp.settings import ClassifierSettings, GroupingSettings
from socialdesk_classifier.nlp.training import load_labelled

T0 = datetime(2026, 3, 7, 22, tzinfo=UTC)


def test_trees_score_exactly_as_scikit_learn_and_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(2000, 6))
    rows[:, 2] = rows[:, 2] > 0  # a flag, as most join features are
    labels = rows[:, 0] + rows[:, 1] * rows[:, 2] + rng.normal(scale=0.5, size=2000) > 0
    fitted = HistGradientBoostingClassifier(max_iter=30, max_depth=4, random_state=0).fit(rows, labels)
    trees = TreeEnsemble.from_sklearn(fitted, meta="m")
    assert np.allclose(trees.predict(rows), fitted.predict_proba(rows)[:, 1], atol=1e-12)
    trees.save(tmp_path / "j.npz")
    again = TreeEnsemble.load(tmp_path / "j.npz")
    assert again.meta == "m" and again.depth == trees.depth
    assert np.array_equal(again.predict(rows[:50]), trees.predict(rows[:50]))


def test_a_bag_averages_its_members_and_round_trips_with_them(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    parts = []
    for _ in range(6):  # six "files" of rows
        rows = rng.normal(size=(300, 4))
        parts.append((rows, rows[:, 0] - rows[:, 1] + rng.normal(scale=0.7, size=300) > 0))
    bag = TreeEnsemble.fit_bagged(parts, size=3, seed=1, meta="b", max_iter=20)
    assert list(bag.members) == [20, 20, 20] and bag.n_trees == 60
    probe = rng.normal(size=(40, 4))
    one = [
        TreeEnsemble(
            bag.feature[a : a + 20],
            bag.threshold[a : a + 20],
            bag.left[a : a + 20],
            bag.right[a : a + 20],
            bag.value[a : a + 20],
            bag.baseline[i],
            bag.depth,
        ).predict(probe)
        for i, a in enumerate((0, 20, 40))
    ]
    assert np.allclose(bag.predict(probe), np.mean(one, axis=0))
    assert not np.allclose(one[0], one[1])  # members saw different draws of the files
    bag.save(tmp_path / "bag.npz")
    again = TreeEnsemble.load(tmp_path / "bag.npz")
    assert list(again.members) == [20, 20, 20]
    assert np.array_equal(again.predict(probe), bag.predict(probe))
    for members, baselines in (([20, 40], [0.0]), ([20, 20], [0.0, 0.0]), ([0, 60], [0.0, 0.0])):
        with pytest.raises(ValueError, match="members must count every tree"):
            TreeEnsemble(
                bag.feature,
                bag.threshold,
                bag.left,
                bag.right,
                bag.value,
                baselines,
                bag.depth,
                members=members,
            )


def test_a_join_file_written_before_bags_still_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(500, 3))
    fitted = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(rows, rows[:, 0] > 0)
    trees = TreeEnsemble.from_sklearn(fitted)
    np.savez_compressed(  # session 13's layout: one baseline, no members
        tmp_path / "old.npz",
        feature=trees.feature.astype(np.int16),
        threshold=trees.threshold,
        left=trees.left.astype(np.int16),
        right=trees.right.astype(np.int16),
        value=trees.value,
        baseline=trees.baseline[:1],
        depth=np.array([trees.depth]),
        meta=np.frombuffer(b"old", dtype=np.uint8),
    )
    old = TreeEnsemble.load(tmp_path / "old.npz")
    assert list(old.members) == [10]
    assert np.allclose(old.predict(rows[:30]), fitted.predict_proba(rows[:30])[:, 1], atol=1e-12)


def _always_first(rows: np.ndarray, candidates: Sequence[Incident]) -> int | None:
    assert rows.shape == (len(candidates), len(JOIN_FEATURES))
    return 0


def _linker(extractor: SignatureExtractor, **kw: object) -> IncidentLinker:
    return IncidentLinker(Grouper(extractor, GroupingSettings()), None, GroupingSettings(), **kw)  # type: ignore[arg-type]


def _complaint(
    grouper: IncidentLinker | Grouper, text: str, minutes: float, brand: str = "ourbus"
) -> GroupAssignment:
    """A complaint ``minutes`` after T0."""
    return grouper.assign(brand=brand, text=text, at=T0 + timedelta(minutes=minutes), category="complaint")


def test_a_post_the_rules_leave_alone_can_join_through_the_chooser(extractor: SignatureExtractor) -> None:
    linker = _linker(extractor, chooser=_always_first)
    first = _complaint(linker, "where are the return buses?? lot K is empty", 0, brand="rally")
    # no kind, no place the rules know: a pending incident of its own, size 1
    assert first.group_id is not None and first.size == 1
    second = _complaint(linker, "an hour walking the lots and still no bus", 9, brand="rally")
    assert second.group_id == first.group_id and second.size == 2
    assert second.shared == ("model:1.00",)
    # another brand's incidents are never candidates
    other = _complaint(linker, "still no bus", 10)
    assert other.group_id != first.group_id


def test_without_a_model_the_linker_answers_as_the_rules(extractor: SignatureExtractor) -> None:
    linker = _linker(extractor)
    rules = Grouper(extractor, GroupingSettings())
    texts = [
        "bus broke down on I-81 near Binghamton, been on the shoulder an hour",
        "where are the return buses?? lot K is empty",
        "our bus broke down outside Binghamton, anyone know when the replacement comes",
    ]
    mine = [_complaint(linker, t, i) for i, t in enumerate(texts)]
    theirs = [_complaint(rules, t, i) for i, t in enumerate(texts)]
    assert [a.group_id for a in mine] == [a.group_id for a in theirs]
    assert mine[0].group_id == mine[2].group_id and mine[1].group_id is None


def test_rule_joins_stand_and_follow_a_learned_alias(extractor: SignatureExtractor) -> None:
    """A rule group the chooser attached to an earlier incident takes its later members along."""
    linker = _linker(extractor, chooser=_always_first)
    first = _complaint(linker, "nobody at the stop, been waiting forever", 0)
    broke = _complaint(linker, "bus broke down on I-81 near Binghamton", 5)
    assert broke.group_id == first.group_id  # the rules opened a group; the chooser joined it here
    again = _complaint(linker, "we broke down near Binghamton on 81, no AC either", 9)
    assert again.group_id == first.group_id and again.size == 3


def test_training_rows_are_labelled_by_the_incident_most_of_a_group_holds(
    extractor: SignatureExtractor,
) -> None:
    analyser = build_analyser(DATA_DIR)
    rows = [
        {
            "id": "a",
            "brand": "rally",
            "text": "where are the return buses?? lot K is empty",
            "incident": "lot",
        },
        {"id": "b", "brand": "rally", "text": "thanks for the snacks on the bus today!", "incident": None},
        {
            "id": "c",
            "brand": "rally",
            "text": "still walking around the parking lot, no bus anywhere",
            "incident": "lot",
        },
    ]
    for i, row in enumerate(rows):
        row.update(
            created_at=(T0 + timedelta(minutes=5 * i)).isoformat(),
            category="x",
            priority="low",
            sentiment="neutral",
        )
    xs, ys = join_examples(
        rows, ["complaint", "praise", "complaint"], [0.9, 0.1, 0.9], analyser, extractor, GroupingSettings()
    )
    # b is scored against a's incident (wrong); c against b's pending one (wrong) and a's (right)
    assert ys == [False, False, True]
    assert all(len(x) == len(JOIN_FEATURES) for x in xs)
    assert xs[2][JOIN_FEATURES.index("post_incident_p")] == pytest.approx(0.9)


def _post(i: int, text: str, minutes: int, brand: str = "rally") -> Post:
    return Post(
        id=f"lj{i}",
        brand=brand,
        platform="x",
        kind="mention",
        author_followers=50,
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
    )


def _pairs(groups: Sequence[str | None]) -> set[tuple[int, int]]:
    return {(i, j) for i, a in enumerate(groups) for j, b in enumerate(groups) if i < j and a and a == b}


def test_make_eval_groups_as_the_shipped_classifier_does() -> None:
    """make eval's grouping (its figures) is what classify does in production: same rules,
    same signature, same incident probabilities, same joins."""
    name = "eval_unga.jsonl"
    rows = load_labelled([DATA_DIR / name])
    shipped = load_default_classifier()
    live = [shipped.classify(Post.from_mapping(r)).group_id for r in rows]
    bare = Classifier(
        analyser=shipped.analyser,
        model=shipped.model,
        templates=load_templates(DATA_DIR / "templates.yaml", cues=shipped.analyser.lexicon.names),
        grouper=None,
    )
    preds = [_predict(bare, r) for r in rows]
    replayed = _group(
        rows,
        preds,
        shipped.analyser,
        ClassifierSettings(),
        DATA_DIR,
        timed=True,
        joiner=TreeEnsemble.load(DATA_DIR / "join.npz"),
    )
    assert _pairs(replayed) == _pairs(live)
    assert len(_pairs(live)) > len(_pairs([r.get("incident") for r in rows])) / 4  # it groups


def test_learned_joins_can_be_switched_off() -> None:
    off = ClassifierSettings(grouping=GroupingSettings(learned_joins=False))
    clf = load_default_classifier(off)
    first = clf.classify(
        _post(1, "@RallyBus where are the return buses?? the sign says lot K and lot K is empty", 0)
    )
    second = clf.classify(
        _post(4, "still walking around the lots looking for our return bus, nobody from rally here", 5)
    )
    assert first.group_id is None and second.group_id is None  # the rules read nothing here


def test_a_rule_group_whose_incident_was_evicted_keeps_its_members_together(
    extractor: SignatureExtractor,
) -> None:
    """An alias to an incident gone from memory is dropped, not followed again and again."""
    settings = GroupingSettings(max_groups_per_brand=10)
    linker = IncidentLinker(Grouper(extractor, settings), None, settings, chooser=_always_first)
    _complaint(linker, "nobody at the stop, been waiting forever", 0)
    text = "bus broke down on I-81 near Binghamton"
    _complaint(linker, text, 1)
    # the aliased incident is evicted by 20 other incidents (the linker keeps 2 x 10)
    linker._chooser = lambda rows, candidates: None
    for i in range(21):
        linker.assign(
            brand="ourbus", text=f"question number {i}", at=T0 + timedelta(minutes=2 + i), category="query"
        )
    later = [_complaint(linker, text, 30 + i) for i in range(2)]
    assert later[0].group_id == later[1].group_id and later[1].size == 2


@pytest.mark.parametrize(("hours", "candidate"), [(24, True), (8, False)])
def test_candidates_are_the_incidents_active_within_the_join_window(
    extractor: SignatureExtractor, hours: int, candidate: bool
) -> None:
    """An incident last reported 10 h ago is a candidate within the 24 h default, not 8 h."""
    seen: list[int] = []

    def record(rows: np.ndarray, candidates: Sequence[Incident]) -> int | None:
        seen.append(len(candidates))
        return None

    settings = GroupingSettings(learned_join_window_seconds=hours * 3600)
    linker = IncidentLinker(Grouper(extractor, settings), None, settings, chooser=record)
    _complaint(linker, "where are the return buses?? lot K is empty", 0, brand="rally")
    seen.clear()
    _complaint(linker, "still no word from anyone, we slept in the car", 600, brand="rally")
    assert seen == ([1] if candidate else [])


class _Unsure:
    """A join model that gives every candidate the same middling probability."""

    def __init__(self, p: float) -> None:
        self.p = p

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return np.full(len(rows), self.p)


@pytest.mark.parametrize(
    ("text", "incident_p", "joins"),
    [
        ("an hour walking the lots and still no bus", 0.95, True),  # sure, and the rules read nothing
        ("an hour walking the lots and still no bus", 0.6, False),  # not sure it is an incident
        ("bus broke down on I-81 near Binghamton", 0.95, False),  # the rules opened a group for it
    ],
)
def test_a_stray_post_surely_about_an_incident_joins_at_the_lower_bar(
    extractor: SignatureExtractor, text: str, incident_p: float, joins: bool
) -> None:
    """Decision 0116: 0.5 is below the learned-join threshold (0.8) and above the sure bar (0.4)."""
    settings = GroupingSettings()
    linker = IncidentLinker(Grouper(extractor, settings), _Unsure(0.5), settings)  # type: ignore[arg-type]
    at = T0
    first = linker.assign(
        brand="rally",
        text="where are the return buses?? lot K is empty",
        at=at,
        category="complaint",
        incident_p=0.9,
    )
    later = linker.assign(
        brand="rally", text=text, at=at + timedelta(minutes=9), category="complaint", incident_p=incident_p
    )
    assert (later.group_id == first.group_id) is joins
    if joins:
        assert later.shared == ("model:0.50",)
