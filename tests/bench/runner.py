"""One benchmark run, phase by phase, on a fresh stack.

Order matters and is chosen so that no phase disturbs another:

1. the classifier library, in a child process, before anything else runs;
2. the raw broker rate, before any service is started and polls the broker;
3. the services start; a warm-up fills connection pools and statement caches;
4. latency at the fixed offered rate, on a pipeline with no backlog;
5. throughput last, since it leaves a backlog behind it.

Every wait is bounded, so a broken or very slow system ends the run with its figures
marked incomplete rather than hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx

from socialdesk_runtime.stack.services import STACK_SERVICES
from tests.bench.broker import measure_broker
from tests.bench.classifier import measure_classifier
from tests.bench.desk import DESK_KEYS, measure_desk_in_child
from tests.bench.http import IntakeClient
from tests.bench.load import AssignmentWatcher, MessageFactory, closed_loop, intake_client, open_loop
from tests.bench.procstat import cpu_seconds, cpu_share
from tests.bench.results import LatencyResult, ThroughputResult, latency_result, throughput_result
from tests.bench.scrape import HopStats, hop_stats, scrape
from tests.bench.settle import settle
from tests.bench.stack import BenchStack
from tests.bench.webhooks import WEBHOOK_KEYS, measure_acks, measure_webhooks
from tests.support import TEST_ENV

__all__ = ["Options", "cpu_per_message", "pipeline", "run_once"]

_API_KEY = TEST_ENV["TEST_INGEST_API_KEYS"].split(",")[0]


@dataclass(frozen=True, slots=True)
class Options:
    """What a run offers; ``quick()`` is the smoke-test size."""

    durable: bool = False
    broker_records: int = 20_000
    record_bytes: int = 600
    warmup_messages: int = 300
    latency_rate: float = 100.0
    latency_seconds: float = 30.0
    throughput_messages: int = 5_000
    concurrency: int = 32
    max_intake_seconds: float = 60.0
    drain_seconds: float = 60.0
    classifier_posts: int = 5_000
    desk_open_tickets: int = 50_000
    desk_requests: int = 300
    webhook_rate: float = 500.0
    webhook_seconds: float = 10.0
    service_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def quick(cls, **over: Any) -> Options:
        """Smaller and shorter everywhere; explicit ``over`` values still win."""
        small: dict[str, Any] = {
            "broker_records": 5_000,
            "warmup_messages": 50,
            "latency_seconds": 5.0,
            "throughput_messages": 1_000,
            "max_intake_seconds": 30.0,
            "drain_seconds": 30.0,
            "classifier_posts": 500,
            "desk_open_tickets": 2_000,
            "desk_requests": 50,
            "webhook_rate": 100.0,
            "webhook_seconds": 3.0,
        }
        return cls(**{**small, **over})


def say(line: str = "") -> None:
    """Progress and figures go to stdout, flushed, so they interleave in order with the
    services' nothing (their logs are in files) and precede the final JSON line."""
    print(line, flush=True)


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else ("∞" if math.isinf(value) else f"{value:.1f}")


def _print_cpu(share: Mapping[str, float]) -> None:
    parts = [f"{role} {share[role] * 100:.0f}%" for role in sorted(share, key=lambda r: -share[r])]
    say(f"    CPU (100% = one core; {sum(share.values()) * 100:.0f}% of 200% used): " + ", ".join(parts))


def _print_hops(hops: list[HopStats]) -> None:
    for h in hops:
        if h.requests:
            say(
                f"    {h.service:<12} {h.requests} requests, mean {h.request_mean_ms:.1f} ms (stored+committed)"
            )
        if h.batches:
            say(
                f"    {h.service:<12} {h.batches} consumer batches, mean {h.batch_mean_ms:.1f} ms, "
                f"{h.records_per_batch:.1f} records/batch"
                + (
                    f"; {h.publishes} outbox publishes, mean {h.publish_mean_ms:.1f} ms, "
                    f"{h.rows_per_publish:.1f} rows each"
                    if h.publishes
                    else ""
                )
            )
        elif h.publishes:
            say(
                f"    {h.service:<12} {h.publishes} outbox publishes, mean {h.publish_mean_ms:.1f} ms, "
                f"{h.rows_per_publish:.1f} rows each"
            )


class _Observed:
    """CPU per process and service metrics around one phase."""

    def __init__(self, stack: BenchStack, http: httpx.AsyncClient) -> None:
        self._stack = stack
        self._http = http
        self._urls = {s.name: stack.url(s.name, "/metrics") for s in STACK_SERVICES}

    async def __aenter__(self) -> _Observed:
        self._pids = self._stack.service_pids()
        self._cpu0 = cpu_seconds(self._pids)
        self._metrics0 = await scrape(self._http, self._urls)
        self._t0 = time.perf_counter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._t0
        self.wall_s = wall
        self.cpu = cpu_share(self._cpu0, cpu_seconds(self._pids), wall)
        self.hops = hop_stats(self._metrics0, await scrape(self._http, self._urls), self._urls)


async def latency_phase(
    stack: BenchStack,
    opts: Options,
    client: IntakeClient,
    watcher: AssignmentWatcher,
    factory: MessageFactory,
    http: httpx.AsyncClient,
    cpu_out: dict[str, float],
) -> LatencyResult:
    say(f"  latency: {opts.latency_rate:.0f} msg/s open loop for {opts.latency_seconds:.0f} s ...")
    async with _Observed(stack, http) as seen_by:
        sent, lag = await open_loop(
            client, factory, first=1_000_000, rate=opts.latency_rate, duration_s=opts.latency_seconds
        )
        await watcher.wait_for(
            (s.ticket_id for s in sent if s.ticket_id is not None), timeout_s=opts.drain_seconds / 2
        )
    result = latency_result(
        sent, watcher.seen, rate=opts.latency_rate, duration_s=opts.latency_seconds, lag_s=lag
    )
    say(
        f"    {result.completed}/{result.offered} assigned ({result.failed} refused, {result.missing} never seen); "
        f"intake → TicketAssigned p50 {_ms(result.p50_ms)} ms, p90 {_ms(result.p90_ms)} ms, "
        f"p99 {_ms(result.p99_ms)} ms, max {_ms(result.max_ms)} ms"
    )
    say(
        f"    intake answer p99 {_ms(result.intake_p99_ms)} ms; worst send behind schedule "
        f"{result.schedule_lag_max_ms:.1f} ms; routed {result.routed}"
    )
    if result.errors:
        say(f"    refused: {result.errors}")
    if result.completed:
        cpu_out.update(cpu_per_message(seen_by.cpu, seen_by.wall_s, result.completed))
    _print_cpu(seen_by.cpu)
    _print_hops(seen_by.hops)
    return result


async def throughput_phase(
    stack: BenchStack,
    opts: Options,
    client: IntakeClient,
    watcher: AssignmentWatcher,
    factory: MessageFactory,
    http: httpx.AsyncClient,
    cpu_out: dict[str, float],
) -> ThroughputResult:
    say(f"  throughput: {opts.throughput_messages} messages, {opts.concurrency} requests in flight ...")
    async with _Observed(stack, http) as seen_by:
        sent = await closed_loop(
            client,
            factory,
            range(2_000_000, 2_000_000 + opts.throughput_messages),
            concurrency=opts.concurrency,
            max_seconds=opts.max_intake_seconds,
        )
        await watcher.wait_for(
            (s.ticket_id for s in sent if s.ticket_id is not None), timeout_s=opts.drain_seconds
        )
    result = throughput_result(sent, watcher.seen, concurrency=opts.concurrency)
    say(
        f"    intake accepted {result.accepted}/{result.offered} in {result.intake_s:.1f} s "
        f"= {result.intake_msgs_per_s:.0f} msg/s; {result.backlog_at_intake_end} not yet assigned then"
    )
    say(
        f"    {result.completed} assigned ({result.missing} never seen); steady rate "
        f"{result.e2e_msgs_per_s:.0f} msg/s, overall {result.e2e_overall_msgs_per_s:.0f} msg/s; "
        f"drained {result.drain_s:.1f} s after intake; latency under load p50 {_ms(result.p50_ms)} ms, "
        f"p99 {_ms(result.p99_ms)} ms; routed {result.routed}"
    )
    if result.errors:
        say(f"    refused: {result.errors}")
    if result.completed:
        per = cpu_per_message(seen_by.cpu, seen_by.wall_s, result.completed)
        cpu_out.update(per)
        say(
            f"    CPU per assigned message: {sum(per.values()):.1f} ms in all ("
            + ", ".join(f"{r} {per[r]:.1f}" for r in sorted(per, key=lambda r: -per[r]))
            + "); two cores at that cost allow "
            f"{2000 / sum(per.values()):.0f} msg/s"
        )
    if result.offered < opts.throughput_messages:
        say(
            f"    (offered {result.offered} of {opts.throughput_messages}: intake is capped at "
            f"{opts.max_intake_seconds:.0f} s so the run ends in time)"
        )
    _print_cpu(seen_by.cpu)
    _print_hops(seen_by.hops)
    return result


def cpu_per_message(share: Mapping[str, float], wall_s: float, messages: int) -> dict[str, float]:
    """CPU milliseconds per message of each process, from its share of a core over ``wall_s``."""
    return {role: v * wall_s / messages * 1000 for role, v in share.items()}


async def pipeline(
    stack: BenchStack,
    opts: Options,
    *,
    around_throughput: Callable[[], AbstractAsyncContextManager[object]] | None = None,
    cpu: dict[str, dict[str, float]] | None = None,
) -> tuple[LatencyResult, ThroughputResult]:
    """Warm-up, then the latency phase, then the throughput phase, on a running stack.

    ``around_throughput`` (a profiler, say) is entered just before the throughput phase
    and left after it. ``cpu`` gets each phase's CPU milliseconds per message by process,
    under ``"latency"`` and ``"throughput"``.
    """
    cpu = {} if cpu is None else cpu
    factory = MessageFactory()
    watcher = AssignmentWatcher(stack.bootstrap_servers)
    await watcher.start()
    try:
        async with (
            intake_client(stack.ports["ingest"], api_key=_API_KEY, connections=opts.concurrency) as client,
            httpx.AsyncClient() as http,
        ):
            say(f"  warm-up: {opts.warmup_messages} messages ...")
            warm = await closed_loop(client, factory, range(opts.warmup_messages), concurrency=8)
            missing = await watcher.wait_for(
                (s.ticket_id for s in warm if s.ticket_id is not None), timeout_s=opts.drain_seconds / 2
            )
            refused = [s.error for s in warm if s.ticket_id is None]
            if refused or missing:
                say(
                    f"    warning: warm-up had {len(refused)} refused, {missing} never assigned: {refused[:2]}"
                )
            latency = await latency_phase(
                stack, opts, client, watcher, factory, http, cpu.setdefault("latency", {})
            )
            async with around_throughput() if around_throughput else contextlib.nullcontext():
                throughput = await throughput_phase(
                    stack, opts, client, watcher, factory, http, cpu.setdefault("throughput", {})
                )
            return latency, throughput
    finally:
        await watcher.stop()


def run_once(opts: Options, *, number: int, of: int) -> dict[str, Any]:
    """A whole run on a fresh stack; returns its flat figures (NaN where not measured)."""
    say(f"run {number}/{of} (PostgreSQL {'durable' if opts.durable else 'non-durable: fsync off'})")
    figures: dict[str, Any] = {}

    say(f"  classifier library: {opts.classifier_posts} posts in a child process ...")
    classifier, note = measure_classifier(opts.classifier_posts)
    say(f"    {note}" + (f": {classifier}" if classifier else ""))
    if classifier:
        figures.update({k: v for k, v in classifier.items() if k.startswith("classifier_")})

    say("  desk: GET /v1/tickets/{id} and one assignment, on a seeded store (child process) ...")
    desk, desk_note = measure_desk_in_child(open_tickets=opts.desk_open_tickets, requests=opts.desk_requests)
    say(f"    {desk_note}")
    if desk:
        figures.update({k: desk[k] for k in DESK_KEYS})

    with BenchStack(durable=opts.durable, service_env=opts.service_env) as stack:
        stack.start_broker()
        say(f"  broker: {opts.broker_records} records of {opts.record_bytes} B, produce → consume ...")
        broker = asyncio.run(
            measure_broker(
                stack.bootstrap_servers, records=opts.broker_records, record_bytes=opts.record_bytes
            )
        )
        say(
            f"    {broker.msgs_per_s:.0f} msg/s produced and consumed "
            f"(produce alone {broker.produce_msgs_per_s:.0f} msg/s acks=all)"
        )
        ready_s = stack.start_services()
        say(f"  five services ready in {ready_s:.1f} s")
        latency, throughput = asyncio.run(pipeline(stack, opts))
        say(
            f"  webhooks during the throughput backlog: signed Meta deliveries at {opts.webhook_rate:.0f} req/s ..."
        )
        backlog = asyncio.run(
            measure_acks(stack.ports["ingest"], rate=opts.webhook_rate, seconds=opts.webhook_seconds)
        )
        settled_s, idle_cores = asyncio.run(settle(stack.service_pids))
        say(
            f"    ack p99 {backlog['webhook_ack_backlog_p99_ms']:.1f} ms (p50 {backlog['webhook_ack_backlog_p50_ms']:.1f}); "
            f"the stack then settled in {settled_s:.0f} s (idle {idle_cores:.2f} cores)"
        )
        figures.update(backlog, webhook_settle_s=settled_s)
        say(
            f"  webhooks on the settled stack: signed Meta deliveries at {opts.webhook_rate:.0f} req/s, then sustained, beside a bare route ..."
        )
        hooks = asyncio.run(
            measure_webhooks(stack.ports["ingest"], rate=opts.webhook_rate, seconds=opts.webhook_seconds)
        )
        say(
            f"    ack p99 {hooks['webhook_ack_p99_ms']:.1f} ms; {hooks['webhook_req_per_s']:.0f} vs bare {hooks['bare_req_per_s']:.0f} req/s"
        )
        figures.update(
            {
                k: hooks[k]
                for k in (*WEBHOOK_KEYS, "webhook_req_per_s", "bare_req_per_s", "webhook_ack_failed")
            }
        )
        restarts = {s.name: s.restarts for s in stack.supervisor.status()} if stack.supervisor else {}
        if any(restarts.values()):
            say(f"  WARNING: services restarted during the run: {restarts}; figures are suspect")
    figures.update(
        {
            "broker_msgs_per_s": broker.msgs_per_s,
            "broker_produce_msgs_per_s": broker.produce_msgs_per_s,
            "e2e_msgs_per_s": throughput.e2e_msgs_per_s,
            "e2e_overall_msgs_per_s": throughput.e2e_overall_msgs_per_s,
            "intake_msgs_per_s": throughput.intake_msgs_per_s,
            "e2e_to_broker_ratio": throughput.e2e_msgs_per_s / broker.msgs_per_s,
            "throughput_missing": throughput.missing + throughput.failed,
            "e2e_p50_ms": latency.p50_ms,
            "e2e_p90_ms": latency.p90_ms,
            "e2e_p99_ms": latency.p99_ms,
            "e2e_max_ms": latency.max_ms,
            "latency_offered_per_s": latency.offered_rate,
            "latency_missing": latency.missing + latency.failed,
            "service_restarts": sum(restarts.values()),
        }
    )
    return figures
