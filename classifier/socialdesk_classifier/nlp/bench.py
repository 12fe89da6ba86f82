"""Throughput, latency and memory of the classifier in one process (``make bench`` calls
:func:`measure`; ``python -m socialdesk_classifier.nlp.bench`` prints its result).

The workload replays the repository's labelled posts (dev + extra) in a loop with fresh ids
and timestamps one second apart, so grouping state grows and is evicted like in production.
Latency is per ``classify`` call (``perf_counter_ns``); throughput is posts over wall time
including the grouping step; RSS is the process's resident set (peak) after the run.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from socialdesk_classifier.nlp.classifier import DATA_DIR, load_default_classifier
from socialdesk_classifier.nlp.training import base_files, load_labelled
from socialdesk_classifier.nlp.types import Post

__all__ = ["measure"]


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure(n_posts: int = 5000) -> dict[str, Any]:
    """Classify ``n_posts`` posts and report throughput, latency percentiles and RSS."""
    t_load = time.perf_counter()
    clf = load_default_classifier()
    load_s = time.perf_counter() - t_load
    rows = load_labelled(base_files(DATA_DIR))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    posts = [
        Post(
            id=f"b{i}",
            brand=row["brand"],
            platform=row.get("platform", "x"),
            kind=row.get("kind", "mention"),
            author_followers=int(row.get("author_followers") or 0),
            text=row["text"],
            created_at=start + timedelta(seconds=i),
        )
        for i, row in enumerate(rows[i % len(rows)] for i in range(n_posts))
    ]
    # Warm-up: lazy pieces (lingua models, regex caches) load on first use.
    for post in posts[:50]:
        clf.classify(post)
    latencies: list[int] = []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for post in posts:
        s = time.perf_counter_ns()
        clf.classify(post)
        latencies.append(time.perf_counter_ns() - s)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1e6, 3)

    return {
        "classifier_posts_per_s": round(n_posts / wall, 1),
        # CPU-time rate: what one core sustains, unaffected by other processes on the machine.
        "classifier_cpu_posts_per_s": round(n_posts / cpu, 1) if cpu > 0 else None,
        "classifier_p50_ms": pct(0.50),
        "classifier_p99_ms": pct(0.99),
        "classifier_max_ms": round(latencies[-1] / 1e6, 3),
        "classifier_rss_mb": round(_rss_mb(), 1),
        "classifier_load_s": round(load_s, 3),
        "classifier_posts": n_posts,
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    print(json.dumps(measure(n)))
