"""`make classify` behaviour: same code path, malformed lines become error records."""

from __future__ import annotations

import json
from pathlib import Path

from socialdesk_classifier.cli import main


def test_classify_file_with_bad_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    good = {
        "id": "a1",
        "brand": "rally",
        "platform": "x",
        "kind": "mention",
        "author_followers": 20,
        "text": "@RallyBus no bus at the Allentown pickup, it's 4:10 and the captain isn't answering",
    }
    same_incident = {**good, "id": "a2", "text": "40 of us stuck in Allentown, the rally bus never came"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"brand": "ourbus", "text": "no id"}),
        "[1, 2]",
        json.dumps({**good, "id": "a3", "author_followers": "many"}),
        "",
        json.dumps(same_incident),
        # A JSON escape of a lone surrogate: json.loads yields a str that cannot be encoded.
        '{"id": "a4", "brand": "ourbus", "platform": "x", "kind": "dm", "author_followers": 1, '
        '"text": "bad \\ud83d surrogate", "created_at": "2025-01-01T00:00:00Z"}',
        '{"id": "a5\\udc00", "brand": "ourbus", "platform": "x", "kind": "dm", "author_followers": 1, '
        '"text": "is there wifi?"}',
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["classify", str(src), str(out)]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 8  # the blank line is skipped, every other line answered
    by_id = {r.get("id"): r for r in records if "error" not in r}
    errors = [r for r in records if "error" in r]
    assert len(errors) == 4
    assert {e["line"] for e in errors} == {2, 3, 4, 5}
    first = by_id["a1"]
    for key in (
        "queue",
        "category",
        "priority",
        "sentiment",
        "auto_reply",
        "language",
        "group",
        "confidence",
        "reasons",
    ):
        assert key in first
    assert (first["queue"], first["priority"]) == ("cx", "critical")
    assert first["group"] is not None and first["group"] == by_id["a2"]["group"]
    assert "a4" in by_id


def test_unreadable_input_exits_non_zero(tmp_path: Path) -> None:
    assert main(["classify", str(tmp_path / "missing.jsonl"), str(tmp_path / "o.jsonl")]) != 0


def test_created_at_as_epoch_seconds_or_milliseconds(tmp_path: Path) -> None:
    """Platforms send epoch numbers (Meta's seconds, WhatsApp's strings, X's ms): all one time."""
    base = {"brand": "ourbus", "platform": "x", "kind": "mention", "author_followers": 5}
    text = "the 3pm bus from Ithaca to NYC never came, 30 of us waiting at the stop"
    lines = [
        {**base, "id": "iso", "text": text, "created_at": "2028-06-21T14:03:11Z"},
        {**base, "id": "s", "text": text, "created_at": 1845208991},
        {**base, "id": "ms", "text": text, "created_at": 1845208991000},
        {**base, "id": "str", "text": text, "created_at": "1845208991"},
        {**base, "id": "bad", "text": text, "created_at": 1e30},
        {**base, "id": "basic", "text": text, "created_at": "20280621"},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["classify", str(src), str(out)]) == 0
    records = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert "out of range" in records["bad"]["error"]
    # eight digits are ISO 8601's basic date, not an epoch
    assert records["basic"]["group_summary"]["first_seen"].startswith("2028-06-21")
    # One stream, one time: the four reports of one no-show land in one incident.
    assert len({records[k]["group"] for k in ("iso", "s", "ms", "str")}) == 1
    summary = records["str"]["group_summary"]
    assert summary["size"] == 4
    assert summary["first_seen"] == summary["last_seen"]  # the same instant, four spellings
