"""The classifier library's own figures, measured in a child process.

In a child so that its resident memory is its own (models loaded, nothing of the
benchmark's), and so that a classifier that is missing or broken costs the run one line
of output rather than the whole run. The library is optional here: another part of the
project builds it, and ``make bench`` must work before and after it lands.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Any

__all__ = ["CLASSIFIER_KEYS", "measure_classifier"]

_MODULE = "socialdesk_classifier.nlp.bench"
#: The keys the benchmark reports; anything else the library returns is printed only.
CLASSIFIER_KEYS = ("classifier_posts_per_s", "classifier_p99_ms", "classifier_rss_mb")

_CHILD = """
import json, sys
from socialdesk_classifier.nlp.bench import measure
print("BENCH-RESULT " + json.dumps(measure(int(sys.argv[1]))))
"""


def _available() -> bool:
    try:
        return importlib.util.find_spec(_MODULE) is not None
    except ModuleNotFoundError:  # the parent package itself is missing
        return False


def measure_classifier(n_posts: int, *, timeout_s: float = 180.0) -> tuple[dict[str, Any] | None, str]:
    """``measure(n_posts)`` of the library in a child; returns (figures or None, a note)."""
    if not _available():
        return None, f"skipped: {_MODULE} does not exist yet"
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(n_posts)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"skipped: {_MODULE}.measure({n_posts}) took over {timeout_s:.0f} s"
    line = next((ln for ln in reversed(done.stdout.splitlines()) if ln.startswith("BENCH-RESULT ")), None)
    if done.returncode != 0 or line is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return None, f"failed (exit {done.returncode}): {' | '.join(tail)}"
    figures: dict[str, Any] = json.loads(line.removeprefix("BENCH-RESULT "))
    absent = [k for k in CLASSIFIER_KEYS if k not in figures]
    if absent:
        return figures, f"measured, but without {', '.join(absent)}"
    return figures, "measured"
