"""The same input gives the same output in every process, whatever the hash seed.

Grouping fills its counts from sets, whose iteration order follows ``PYTHONHASHSEED``: a tie
broken by that order once changed a group's summary type and the order of a join's reasons
between two runs of ``make classify`` on the same file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


def _classify(tmp_path: Path, seed: str) -> bytes:
    out = tmp_path / f"out-{seed}.jsonl"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "socialdesk_classifier.cli",
            "classify",
            str(DATA / "eval_fresh.jsonl"),
            str(out),
        ],
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
    )
    return out.read_bytes()


def test_classify_output_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    first = _classify(tmp_path, "1")
    assert first.count(b"\n") > 100
    assert _classify(tmp_path, "2") == first
    assert _classify(tmp_path, "3") == first
