"""Replies to customers through the fake Graph API under the platform's limits (issue 10).

``replies_per_s``: ReplyRequested → Messenger send accepted by the fake, for a batch of
replies spread over several customers, through the notifier's real bootstrap, store and
delivery worker (on a real PostgreSQL; no Kafka: the replies are fed as one consumed
batch, as :func:`tests.support.booted` does). The fake enforces **1 send per second per
recipient** and a **global** rate per Page (a sliding one-second window), answering
Graph's throttling codes (613 for the Page, 131056-style pair limit per recipient) past
them. ``replies_throttled_total`` counts those refusals: the pacer keeps it at 0 (or 1:
the first back-off) however many replies are queued.

Usage (alone, small)::

    python -m tests.bench.replies --replies 120 --recipients 40 --global-rate 40

From the bench main: ``measure_replies(n_replies=600, recipients=200, global_rate=100)``
returns ``{"replies_per_s": ..., "replies_throttled_total": ..., ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

import yaml

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.worker import DeliveryWorker
from socialdesk_runtime.clock import SystemClock
from socialdesk_runtime.config import load_config
from socialdesk_runtime.embedded import EmbeddedPostgres
from socialdesk_schemas import ReplyRequested
from tests.fakes._http import Reply, Request
from tests.fakes.meta import FakeMeta, GraphError
from tests.support import TEST_CONFIG, TEST_ENV, booted

__all__ = ["LimitedMeta", "measure_replies"]

PAGE = "730011223344556"
TOKEN = "EAAG-bench"


class LimitedMeta(FakeMeta):
    """The Meta fake with a Page-wide rate and a per-recipient rate, in sliding 1 s windows."""

    def __init__(self, *, global_rate: int, per_recipient_rate: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.global_rate = global_rate
        self.per_recipient_rate = per_recipient_rate
        self._recent: deque[float] = deque()
        self._recent_by: dict[str, deque[float]] = {}
        self.throttled = 0
        self._limit_lock = threading.Lock()

    def _dispatch(self, request: Request) -> tuple[str, dict[str, Any], Reply]:
        api = self._api_of(request)
        if api in {"messenger", "instagram", "whatsapp"} and request.method == "POST":
            try:
                recipient = str(
                    (request.json().get("recipient") or {}).get("id") or request.json().get("to") or ""
                )
            except ValueError:
                recipient = ""
            now = time.monotonic()
            with self._limit_lock:
                for window in (self._recent, self._recent_by.setdefault(recipient, deque())):
                    while window and now - window[0] >= 1.0:
                        window.popleft()
                if len(self._recent) >= self.global_rate:
                    self.throttled += 1
                    return (
                        self._route_of(request),
                        {},
                        GraphError(613, "(#613) Calls to this api have exceeded the rate limit.").reply(),
                    )
                if len(self._recent_by[recipient]) >= self.per_recipient_rate:
                    self.throttled += 1
                    return (
                        self._route_of(request),
                        {},
                        GraphError(131056, "(#131056) pair rate limit hit").reply(),
                    )
                self._recent.append(now)
                self._recent_by[recipient].append(now)
        return super()._dispatch(request)


def _config_file(root: Path) -> Path:
    data: dict[str, Any] = yaml.safe_load(TEST_CONFIG.read_text())
    data["brands"][0]["accounts"] = {"facebook": {"page_id": PAGE, "page_token_env": "BENCH_PAGE_TOKEN"}}
    path = root / "socialdesk.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _replies(n: int, recipients: int) -> list[ReplyRequested]:
    now = SystemClock().now()
    return [
        ReplyRequested(
            producer="bench",
            occurred_at=now,
            ticket_id=uuid.uuid4(),
            correlation_id=uuid.uuid4(),
            reply_id=uuid.uuid4(),
            brand="ourbus",
            platform="messenger",
            kind="dm",
            recipient_platform_user_id=f"61{i % recipients:014d}",
            text=f"Your bus leaves at 9:15 (reply {i}).",
            origin="agent",
            agent_id="ob-ana",
        )
        for i in range(n)
    ]


async def _run(
    database_url: str, root: Path, meta: LimitedMeta, n: int, recipients: int, timeout_s: float
) -> dict[str, Any]:
    config = load_config(_config_file(root), env={**TEST_ENV, "BENCH_PAGE_TOKEN": TOKEN})
    settings = {
        "graph_base_url": meta.url,
        "local_sink_path": root / "sink.jsonl",
        # The pace a deployment would configure: a little under the platform's limits.
        "platform_rate_per_second": meta.global_rate * 0.9,
        "recipient_interval_seconds": 1.1 / meta.per_recipient_rate,
        "delivery_lease_seconds": 30,
        "poll_seconds": 0.05,
    }
    async with booted(SPEC, database_url, clock=SystemClock(), config=config, settings=settings) as svc:
        # The notifier also runs its Freshdesk worker: the replies go through the delivery one.
        (worker,) = (w for w in svc.parts.workers if isinstance(w, DeliveryWorker))
        events = _replies(n, recipients)
        for start in range(0, n, 500):
            await svc.feed(*events[start : start + 500])
        task = asyncio.create_task(worker.run())
        started = time.monotonic()
        try:
            deadline = started + timeout_s
            while len(meta.sends) < n and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            elapsed = time.monotonic() - started
        finally:
            worker.stop()
            await task
        sent = len(meta.sends)
        keys = [send.payload["message"]["metadata"] for send in meta.sends]
        return {
            "replies_per_s": sent / elapsed if elapsed > 0 else float("nan"),
            "replies_sent": sent,
            "replies_missing": n - len(set(keys)),
            "replies_doubled": len(keys) - len(set(keys)),
            "replies_throttled_total": meta.throttled,
            "replies_bound_per_s": min(float(meta.global_rate), recipients * meta.per_recipient_rate),
        }


def measure_replies(
    n_replies: int = 600, recipients: int = 200, global_rate: int = 100, *, timeout_s: float = 120.0
) -> dict[str, Any]:
    """One measurement on its own PostgreSQL and fake; returns the figures."""
    root = Path(tempfile.mkdtemp(prefix="socialdesk-bench-replies-"))
    postgres = EmbeddedPostgres(root / "pg", durable=False)
    meta = LimitedMeta(global_rate=global_rate, token=TOKEN, pages={PAGE})
    try:
        postgres.start()
        postgres.create_database("bench_replies")
        meta.start()
        return asyncio.run(_run(postgres.url("bench_replies"), root, meta, n_replies, recipients, timeout_s))
    finally:
        meta.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.replies", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--replies", type=int, default=600)
    parser.add_argument("--recipients", type=int, default=200)
    parser.add_argument("--global-rate", type=int, default=100)
    args = parser.parse_args(argv)
    figures = measure_replies(args.replies, args.recipients, args.global_rate)
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
