"""The classifier library's own figures, measured in a child process.

In a child so that its resident memory is its own (models loaded, nothing of the
benchmark's), and so that a classifier that is missing or broken costs the run one line
of output rather than the whole run. The library is optional here: another part of the
project builds it, and ``make bench`` must work before and after it lands.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from tests.bench.child import run_child

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
    figures, note = run_child(
        _MODULE,
        [str(n_posts)],
        what=f"{_MODULE}.measure({n_posts})",
        timeout_s=timeout_s,
        code=_CHILD,
        prefix="BENCH-RESULT ",
    )
    if figures is None:
        return None, note
    absent = [k for k in CLASSIFIER_KEYS if k not in figures]
    if absent:
        return figures, f"measured, but without {', '.join(absent)}"
    return figures, "measured"


if __name__ == "__main__":
    # `python -m tests.bench.classifier [posts] [runs]`: each run in its own child, then the
    # median of the throughput figures (one run on a shared machine says little).
    import json
    import statistics
    import sys

    n_posts = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    results = []
    for _ in range(runs):
        figures, note = measure_classifier(n_posts)
        print(json.dumps({"note": note, **(figures or {})}), flush=True)
        if figures is not None:
            results.append(figures)
    for key in (
        "classifier_posts_per_s",
        "classifier_cpu_posts_per_s",
        "classifier_p50_ms",
        "classifier_p99_ms",
    ):
        values = [r[key] for r in results if r.get(key) is not None]
        if values:
            print(f"median {key}: {statistics.median(values)}")
