"""Training the linear model from labelled JSONL files in ``classifier/data/``.

Training data: ``dev.jsonl`` (the project's labelled development set, copied into the repo),
``extra_*.jsonl`` (examples we wrote to cover gaps: Spanish and other languages, varied
wording of safety/legal/marketing/spam, FAQ phrasings) and the development sets
(:data:`DEVELOPMENT_FILES`: each written once as a held-out set by someone who had read
neither the rules nor the other sets, then read while writing rules). Training on them is
decision 0104: with one more writer's posts in training, every held-out set scored better
(leave-one-set-out). The sealed sets (:data:`SEALED_FILES`) are never trained on. Nothing is
read from outside the repo.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from socialdesk_classifier.nlp.features import Analyser, feature_tokens
from socialdesk_classifier.nlp.model import LinearModel, fit_linear_model
from socialdesk_classifier.nlp.types import Post

__all__ = [
    "DEVELOPMENT_FILES",
    "SEALED_FILES",
    "base_files",
    "incident_label",
    "load_labelled",
    "train_model",
    "training_files",
]

HEADS = ("category", "priority", "sentiment", "auto_reply", "incident")


#: Written blind, read while writing rules since, trained on (oldest first).
DEVELOPMENT_FILES = (
    "holdout.jsonl",
    "eval_unseen.jsonl",
    "eval_fresh.jsonl",
    "eval_blind.jsonl",
    # session 6: three sets written blind from the taxonomy, scored before anything was changed
    "eval_storm.jsonl",
    "eval_summer.jsonl",
    "eval_football.jsonl",
    # session 6's two sealed sets, scored once after its changes (README), then read:
    # eval_sealed6 (taxonomy only) and eval_sealed7 (written with dev.jsonl's conventions)
    "eval_holiday.jsonl",
    "eval_spring.jsonl",
    # session 5's sealed set (written from the taxonomy alone), scored before and after
    # sessions 5 and 6, read in session 7 (its misses led to departure times, decision 0105)
    "eval_thanksgiving.jsonl",
    # session 7's sealed10 (written with dev.jsonl's conventions before the session's changes),
    # scored before and mid-session, then read (its misses: slide-offs, rebooking pages, QR
    # refusals, a luggage door opening on the road)
    "eval_winter.jsonl",
    # session 7's sealed8, scored at its start and end (README), read in session 8 (its misses:
    # a leaking roof, a promo code refused everywhere, refunds missing after a cancelled event)
    "eval_october.jsonl",
    # session 7's sealed9, scored in sessions 7, 8 and 9 (README), read in session 9
    "eval_july.jsonl",
    # session 8's sealed11, scored in sessions 8 and 9 (README), read at the end of session 9
    "eval_april.jsonl",
    # session 10's sealed15 (September), written from a new brief with dev.jsonl's conventions,
    # scored on the session's start commit, then read: its incidents are mostly told without a
    # kind's usual words (a flooded stop, a driver out of hours, a drunk rider)
    "eval_september.jsonl",
    # session 11: written from session 10's brief as training data (August, November, New
    # Year), each scored once before being read (README), then trained on
    "eval_august.jsonl",
    "eval_november.jsonl",
    "eval_newyear.jsonl",
    # ... and two more (late July, St Patrick's week), scored once at c5af028 before being read
    "eval_latejuly.jsonl",
    "eval_stpatrick.jsonl",
    # ... and four more (Memorial Day, Labor Day, Halloween, cherry blossoms), scored once
    # before being read, with late July and St Patrick's trained on
    "eval_memorialday.jsonl",
    "eval_laborday.jsonl",
    "eval_halloween.jsonl",
    "eval_cherryblossom.jsonl",
    # ... a second wave of training writers (early June, foliage, lake-effect snow, ski week,
    # finals week, the Fourth of July, the Boston Marathon), each scored once before being read
    "eval_earlyjune.jsonl",
    "eval_foliage.jsonl",
    "eval_lakeeffect.jsonl",
    "eval_skiweek.jsonl",
    "eval_finals.jsonl",
    "eval_fourth.jsonl",
    "eval_marathon.jsonl",
    # ... and a third wave (late March, conference basketball, Lunar New Year, Mother's Day,
    # summer Fridays, the World Series, Thanksgiving week, UN week), each scored once first
    "eval_latemarch.jsonl",
    "eval_hoops.jsonl",
    "eval_lunar.jsonl",
    "eval_mothersday.jsonl",
    "eval_summerfri.jsonl",
    "eval_worldseries.jsonl",
    "eval_thanksgiv2.jsonl",
    "eval_unga.jsonl",
    # session 13: a fourth wave (Valentine's week, back to school, homecoming, commencement,
    # the MLK weekend, an August heat dome), each scored once at f2e2e9e and once with the
    # priority calibration (fitted without them) before being trained on; never read
    "eval_valentine.jsonl",
    "eval_backtoschool.jsonl",
    "eval_homecoming.jsonl",
    "eval_commencement.jsonl",
    "eval_mlk.jsonl",
    "eval_augustheat.jsonl",
    # session 14: a fifth wave (Presidents' Day, Pride weekend, winter break, early fall), each
    # scored once at 2e105f6 and once with the 24 h window and the bag of join models (fitted
    # without them) before being trained on; never read
    "eval_presidents.jsonl",
    "eval_pride.jsonl",
    "eval_winterbreak.jsonl",
    "eval_earlyfall.jsonl",
)
#: Written from the taxonomy alone, committed before the rule changes they score: never read,
#: never trained on; ``make eval`` reports them apart, without their errors.
SEALED_FILES = (
    # session 19 (early May): written mid-session by a helper who read no code, scored with and
    # without the session's grouping change; never read (3 plain FAQs worded exactly as
    # training posts dropped, as the test of copies asks)
    "eval_sealed34.jsonl",
    # session 18 (early February, late August): written at the session's start from session
    # 17's brief, scored on its start commit (ef8c8e7, the classifier of dc45dca); never read
    "eval_sealed32.jsonl",
    "eval_sealed33.jsonl",
    # session 17, late (mid-July, late October): written after the session's last classifier
    # change, scored once on its start commit (594afbe) and once on its end; never read
    "eval_sealed30.jsonl",
    "eval_sealed31.jsonl",
    # session 17 (early April, early December): written at the session's start from session
    # 16's brief, scored on its start commit (594afbe) and at its end; never read
    "eval_sealed28.jsonl",
    "eval_sealed29.jsonl",
    # session 16 (early-to-mid September, early April): written at the session's start from
    # session 15's brief, scored on its start commit (492437b) and at its end; never read
    "eval_sealed26.jsonl",
    "eval_sealed27.jsonl",
    # session 15 (mid-January, late June): written at the session's start from session 14's
    # brief, scored on its start commit (aa8f7e2) and at its end; never read
    "eval_sealed24.jsonl",
    "eval_sealed25.jsonl",
    # session 14 (early March, early October): written at the session's start from session
    # 13's brief, scored on its start commit (2e105f6) and at its end; never read
    "eval_sealed22.jsonl",
    "eval_sealed23.jsonl",
    # session 13 (December, late April): written at the session's start from session 11's
    # brief, scored on its start commit (f2e2e9e) and at its end; never read
    "eval_sealed20.jsonl",
    "eval_sealed21.jsonl",
    # session 11 (February, June): written at the session's start, scored on its start commit
    # and at its end; never read
    "eval_sealed18.jsonl",
    "eval_sealed19.jsonl",
    # session 10, written from a new brief (README) while the session's changes were made,
    # scored on the session's start commit and at its end; never read (sealed17 is the
    # default --holdout: it was used for nothing else)
    "eval_sealed17.jsonl",
    "eval_sealed16.jsonl",
    "eval_sealed14.jsonl",
    # session 9, two sets written with dev.jsonl's conventions while the session's first
    # changes were made, scored on the session's start commit and after (README); never read
    "eval_sealed13.jsonl",
    "eval_sealed12.jsonl",
)


def base_files(data_dir: Path) -> list[Path]:
    """``dev.jsonl`` and our hand-written extras (the classifier bench's workload)."""
    return [data_dir / "dev.jsonl", *sorted(data_dir.glob("extra_*.jsonl"))]


def training_files(data_dir: Path) -> list[Path]:
    """The labelled files training reads, in a stable order."""
    return [*base_files(data_dir), *(data_dir / n for n in DEVELOPMENT_FILES if (data_dir / n).exists())]


def load_labelled(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Read labelled rows; each must carry the taxonomy fields."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                row = json.loads(line)
                for key in ("id", "text", "category", "priority", "sentiment"):
                    if key not in row:
                        raise ValueError(f"{path}:{n}: missing {key!r}")
                rows.append(row)
    return rows


def fingerprint(paths: Iterable[Path]) -> str:
    """Hash of the training files, stored in the model to detect a stale artifact."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def incident_label(row: dict[str, Any]) -> str | None:
    """The ``incident`` head's label: whether the post belongs to an incident (None: unknown)."""
    if "incident" not in row:
        return None
    return "yes" if row["incident"] else "no"


def _targets(rows: Sequence[dict[str, Any]]) -> dict[str, list[str | None]]:
    return {
        "category": [r["category"] for r in rows],
        "priority": [r["priority"] for r in rows],
        "sentiment": [r["sentiment"] for r in rows],
        # Whether a post is about an incident at all: the learned joins read it (decision 0110).
        "incident": [incident_label(r) for r in rows],
        # The template head learns only from posts that could get one.
        "auto_reply": [
            (r.get("auto_reply") or "none") if r["category"] in ("query", "request") else None for r in rows
        ],
    }


def train_model(rows: Sequence[dict[str, Any]], analyser: Analyser, *, meta: str = "") -> LinearModel:
    """Fit the four heads on ``rows``."""
    docs = []
    for row in rows:
        post = Post.from_mapping(row)
        docs.append(feature_tokens(post, analyser.analyse(post)))
    return fit_linear_model(docs, _targets(rows), c_by_head={"auto_reply": 20.0}, meta=meta)
