"""Webhook acknowledgement figures (issue 8): ``webhook_ack_p99_ms`` and ``webhook_vs_bare_ratio``.

- ``webhook_ack_p99_ms``: signed Meta deliveries (one Messenger DM each, a new message id
  every time, so the whole pipeline behind works too) offered open loop at 500 req/s to
  ingest's ``POST /v1/webhooks/meta``; p99 of request → 200 (verified, stored, committed),
  after an uncounted warm-up of two seconds at the same rate.
- ``webhook_vs_bare_ratio``: ingest's sustained signed-webhook rate (closed loop, N in
  flight) divided by the rate of a bare FastAPI route answering 200, served the same way
  (uvicorn, uvloop, httptools, one process) and measured the same way in the same run.

Called by the bench main with the running stack's ingest port::

    figures = asyncio.run(measure_webhooks(stack.ports["ingest"]))

Alone (starts its own stack): ``python -m tests.bench.webhooks --seconds 3 --rate 200``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from socialdesk_ingest.domain.platforms import meta_signature
from socialdesk_runtime.embedded import free_port
from tests.bench.http import HttpError, IntakeClient
from tests.bench.results import percentile
from tests.support import TEST_ENV

__all__ = ["WEBHOOK_KEYS", "measure_acks", "measure_webhooks"]

WEBHOOK_KEYS = ("webhook_ack_p99_ms", "webhook_vs_bare_ratio")
TARGET_ACK_P99_MS = 50.0
TARGET_RATIO = 0.5
PAGE = "730011223344556"
_TIMEOUT_S = 10.0

_BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
app = FastAPI()
@app.post("/v1/webhooks/meta")
async def hook() -> PlainTextResponse:
    return PlainTextResponse("EVENT_RECEIVED")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
            access_log=False, log_level="warning", lifespan="off")
"""


class _SignedClient(IntakeClient):
    """Signs each body with the app secret (``X-Hub-Signature-256``)."""

    def __init__(self, port: int, *, secret: str, connections: int) -> None:
        super().__init__("127.0.0.1", port, api_key="-", connections=connections)
        self._base = f"Host: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n".encode()
        self._secret = secret

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        # The head is built before the first await of post(): setting it here is per request.
        self._prefix = self._base + f"X-Hub-Signature-256: {meta_signature(body, self._secret)}\r\n".encode()
        return await super().post(path, body)


@dataclass(slots=True)
class _Sent:
    started: float
    answered: float = math.nan
    ok: bool = False


def _delivery(run: str, i: int) -> bytes:
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "time": 1767225600123,
                    "messaging": [
                        {
                            "sender": {"id": f"61{i % 5000:012d}"},
                            "recipient": {"id": PAGE},
                            "timestamp": 1767225600050,
                            "message": {"mid": f"m_bench_{run}_{i}", "text": f"Is bus {i % 97} on time?"},
                        }
                    ],
                }
            ],
        }
    ).encode()


async def _send(client: IntakeClient, body: bytes) -> _Sent:
    sent = _Sent(time.perf_counter())
    try:
        status, _ = await asyncio.wait_for(client.post("/v1/webhooks/meta", body), timeout=_TIMEOUT_S)
        sent.ok = status == 200
    except (HttpError, TimeoutError):
        pass
    sent.answered = time.perf_counter()
    return sent


async def _open_loop(client: IntakeClient, bodies: list[bytes], rate: float) -> list[_Sent]:
    tasks: list[asyncio.Task[_Sent]] = []
    start = time.perf_counter()
    for n, body in enumerate(bodies):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_send(client, body)))
    return list(await asyncio.gather(*tasks))


async def _closed_loop(
    client: IntakeClient, body_of: Any, *, concurrency: int, seconds: float
) -> tuple[int, int, float]:
    """(answered 200, failed, wall seconds) with ``concurrency`` requests in flight."""
    ok = failed = 0
    counter = iter(range(10**9))
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        nonlocal ok, failed
        while time.perf_counter() < deadline:
            sent = await _send(client, body_of(next(counter)))
            ok, failed = (ok + 1, failed) if sent.ok else (ok, failed + 1)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, failed, time.perf_counter() - start


async def _wait_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise RuntimeError(f"bare app did not listen on {port} within {timeout_s:.0f} s")


async def measure_acks(
    ingest_port: int, *, rate: float, seconds: float, secret: str = TEST_ENV["TEST_META_APP_SECRET"]
) -> dict[str, Any]:
    """Only the acknowledgement times of signed deliveries offered at ``rate`` (no warm-up,
    no bare route): the bench measures them once while the stack still works through the
    throughput phase's backlog, beside the settled figure ``measure_webhooks`` reports."""
    run = uuid.uuid4().hex[:8]
    client = _SignedClient(ingest_port, secret=secret, connections=256)
    try:
        sent = await _open_loop(client, [_delivery(f"{run}b", i) for i in range(round(rate * seconds))], rate)
    finally:
        await client.aclose()
    acks = sorted((s.answered - s.started) * 1000 for s in sent if s.ok)
    return {
        "webhook_ack_backlog_p99_ms": percentile(acks, 0.99),
        "webhook_ack_backlog_p50_ms": percentile(acks, 0.50),
        "webhook_ack_backlog_failed": len(sent) - len(acks),
    }


async def measure_webhooks(
    ingest_port: int,
    *,
    rate: float = 500.0,
    seconds: float = 10.0,
    sustain_seconds: float = 5.0,
    concurrency: int = 32,
    secret: str = TEST_ENV["TEST_META_APP_SECRET"],
    warmup_seconds: float = 2.0,
) -> dict[str, Any]:
    """Both servers are warmed up first, uncounted (``warmup_seconds`` at the offered rate
    for ingest, one second for the bare route): the client opens its connections and the
    service fills its pools and caches, as the runner's warm-up does for the pipeline."""
    # The bare route first: nothing of ingest's (its extraction backlog) runs meanwhile.
    port = free_port()
    bare = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _BARE_APP, str(port), stdin=asyncio.subprocess.DEVNULL
    )
    try:
        await _wait_port(port)
        plain = IntakeClient("127.0.0.1", port, api_key="-", connections=concurrency)
        body = _delivery("bare", 0)
        try:
            await _closed_loop(plain, lambda _: body, concurrency=concurrency, seconds=1.0)
            bare_ok, _, bare_wall = await _closed_loop(
                plain, lambda _: body, concurrency=concurrency, seconds=sustain_seconds
            )
        finally:
            await plain.aclose()
    finally:
        bare.terminate()
        await asyncio.wait_for(bare.wait(), timeout=10)
    run = uuid.uuid4().hex[:8]
    client = _SignedClient(ingest_port, secret=secret, connections=256)
    try:
        warm = [_delivery(f"{run}w", i) for i in range(round(rate * warmup_seconds))]
        await _open_loop(client, warm, rate)
        bodies = [_delivery(run, i) for i in range(round(rate * seconds))]
        sent = await _open_loop(client, bodies, rate)
        acks = sorted((s.answered - s.started) * 1000 for s in sent if s.ok)
        base = len(bodies)
        ok, failed, wall = await _closed_loop(
            client, lambda i: _delivery(run, base + i), concurrency=concurrency, seconds=sustain_seconds
        )
    finally:
        await client.aclose()
    webhook_rps = ok / wall if wall else math.nan

    bare_rps = bare_ok / bare_wall if bare_wall else math.nan
    return {
        "webhook_ack_p99_ms": percentile(acks, 0.99),
        "webhook_ack_p50_ms": percentile(acks, 0.50),
        "webhook_offered_rate": rate,
        "webhook_ack_failed": len(sent) - len(acks) + failed,
        "webhook_req_per_s": webhook_rps,
        "bare_req_per_s": bare_rps,
        "webhook_vs_bare_ratio": webhook_rps / bare_rps if bare_rps else math.nan,
    }


def _main() -> int:
    from tests.bench.stack import BenchStack, without_slack_token

    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.webhooks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sustain-seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    without_slack_token()
    with BenchStack() as stack:
        stack.start_broker()
        stack.start_services()
        figures = asyncio.run(
            measure_webhooks(
                stack.ports["ingest"],
                rate=args.rate,
                seconds=args.seconds,
                sustain_seconds=args.sustain_seconds,
            )
        )
    for key, value in figures.items():
        print(f"  {key:<24} {value:10.2f}" if isinstance(value, float) else f"  {key:<24} {value}")
    p99, ratio = figures["webhook_ack_p99_ms"], figures["webhook_vs_bare_ratio"]
    print(f"  webhook ack p99 ≤ {TARGET_ACK_P99_MS:.0f} ms: {'PASS' if p99 <= TARGET_ACK_P99_MS else 'FAIL'}")
    print(f"  webhook ÷ bare ≥ {TARGET_RATIO}: {'PASS' if ratio >= TARGET_RATIO else 'FAIL'}")
    print(json.dumps({k: figures[k] for k in WEBHOOK_KEYS}))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
