"""``python -m tests.bench.e2e``: only the end-to-end section of ``make bench``.

The same broker rate, warm-up, latency phase (fixed offered rate) and throughput phase
(closed loop) as a full run, on a fresh stack, without the classifier, desk, webhook,
SLA and replies sections: what a change to the pipeline's hot path is checked with.
The figures to compare across runs on a shared machine are CPU milliseconds per message
per process, not msg/s, and the idle share of a core per process measured first with no
load (consumer polling, relays, schedulers: what every second costs whatever the load,
and what inflates CPU per message when other load stretches a run). The machine's load
average is printed with them.

``--profile DIR`` samples every Python service with py-spy during the throughput phase
(a dev tool: ``pip install py-spy``) and writes one folded-stack file per service, plus a
summary of the hottest functions. The sampling costs CPU itself: profile and measure in
separate runs.

Usage::

    python -m tests.bench.e2e --messages 2000 --seconds 10
    python -m tests.bench.e2e --messages 2000 --seconds 5 --profile /tmp/prof
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.bench.broker import measure_broker
from tests.bench.folded import hottest
from tests.bench.procstat import cpu_seconds, cpu_share
from tests.bench.runner import Options, pipeline, say
from tests.bench.stack import BenchStack, without_slack_token

__all__ = ["main", "run_e2e"]

#: Stack processes that are Python (py-spy can sample them).
_PYTHON_ROLES = ("ingest", "classifier", "assigner", "sla-monitor", "notifier")


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


@contextlib.asynccontextmanager
async def _py_spy(stack: BenchStack, exe: str, out: Path, *, rate: int) -> AsyncIterator[object]:
    """py-spy on every Python service from enter to exit, one folded-stack file each."""
    pids = stack.service_pids()
    procs = []
    for role in _PYTHON_ROLES:
        if role in pids:
            procs.append(
                await asyncio.create_subprocess_exec(
                    exe,
                    "record",
                    "--pid",
                    str(pids[role]),
                    "--rate",
                    str(rate),
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    str(out / f"{role}.folded"),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )
    try:
        yield None
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for proc in procs:
            await proc.wait()


def _idle_share(stack: BenchStack, seconds: float) -> dict[str, float]:
    """Each process's share of a core with no load at all: the cost of polling (consumer
    fetches, relays, schedulers), which does not depend on the machine's other load."""
    if seconds <= 0:
        return {}
    time.sleep(2.0)  # start-up work (migrations, first fetches, group joins) settles
    pids = stack.service_pids()
    before = cpu_seconds(pids)
    started = time.perf_counter()
    time.sleep(seconds)
    share = cpu_share(before, cpu_seconds(pids), time.perf_counter() - started)
    share.pop("bench", None)
    say(
        f"  idle for {seconds:.0f} s (no load), share of a core: "
        + ", ".join(f"{r} {v * 100:.1f}%" for r, v in sorted(share.items(), key=lambda kv: -kv[1]))
        + f"; {sum(share.values()) * 100:.0f}% in all"
    )
    return share


def run_e2e(
    opts: Options, *, profile: Path | None = None, profile_rate: int = 200, idle_seconds: float = 10.0
) -> dict[str, Any]:
    """One end-to-end run on a fresh stack; returns its figures (NaN where not measured)."""
    with BenchStack(durable=opts.durable, service_env=opts.service_env) as stack:
        stack.start_broker()
        broker = asyncio.run(
            measure_broker(
                stack.bootstrap_servers, records=opts.broker_records, record_bytes=opts.record_bytes
            )
        )
        say(f"  broker: {broker.msgs_per_s:.0f} msg/s produced and consumed")
        say(f"  five services ready in {stack.start_services():.1f} s")
        idle = _idle_share(stack, idle_seconds)
        around = None
        if profile is not None:
            target = profile
            exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            if not Path(exe).exists():
                raise SystemExit("--profile needs py-spy (pip install py-spy)")
            target.mkdir(parents=True, exist_ok=True)

            def around() -> contextlib.AbstractAsyncContextManager[object]:
                return _py_spy(stack, exe, target, rate=profile_rate)

        cpu: dict[str, dict[str, float]] = {}
        latency, throughput = asyncio.run(pipeline(stack, opts, around_throughput=around, cpu=cpu))
    per_msg = cpu.get("throughput", {})
    return {
        "e2e_msgs_per_s": throughput.e2e_msgs_per_s,
        "e2e_overall_msgs_per_s": throughput.e2e_overall_msgs_per_s,
        "throughput_missing": throughput.missing + throughput.failed,
        "e2e_p50_ms": latency.p50_ms,
        "e2e_p99_ms": latency.p99_ms,
        "latency_offered_per_s": latency.offered_rate,
        "latency_missing": latency.missing + latency.failed,
        "cpu_ms_per_msg": {k: round(v, 2) for k, v in per_msg.items()},
        "cpu_ms_per_msg_services": round(sum(v for k, v in per_msg.items() if k != "bench"), 2),
        "latency_cpu_ms_per_msg": {k: round(v, 2) for k, v in cpu.get("latency", {}).items()},
        "idle_cpu_share_pct": {k: round(v * 100, 2) for k, v in idle.items()},
    }


def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, Options]:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000, help="messages of the throughput phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0, help="offered rate of the latency phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the latency phase")
    parser.add_argument("--durable", action="store_true", help="PostgreSQL with fsync on")
    parser.add_argument(
        "--idle-seconds", type=float, default=10.0, help="measure CPU with no load first (0: skip)"
    )
    parser.add_argument("--profile", type=Path, help="py-spy every service in the throughput phase")
    parser.add_argument("--profile-rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--service-env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    env = {}
    for item in args.service_env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--service-env wants NAME=VALUE, got {item!r}")
        env[name] = value
    opts = Options(
        durable=args.durable,
        broker_records=5_000,
        warmup_messages=100,
        latency_rate=args.rate,
        latency_seconds=args.seconds,
        throughput_messages=args.messages,
        concurrency=args.concurrency,
        service_env=env,
    )
    return args, opts


def main(argv: list[str] | None = None) -> int:
    args, opts = _parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    without_slack_token()
    say(f"socialdesk e2e bench on {os.cpu_count()} CPUs; load average before: {_load()}")
    try:
        figures = run_e2e(
            opts, profile=args.profile, profile_rate=args.profile_rate, idle_seconds=args.idle_seconds
        )
    except KeyboardInterrupt:
        say("interrupted: every process stopped, temporary files removed")
        return 130
    figures["load_average_after"] = _load()
    if args.profile is not None:
        for role in _PYTHON_ROLES:
            folded = args.profile / f"{role}.folded"
            if folded.exists():
                say(f"  {role}: hottest functions (self / total share of samples)")
                for line in hottest(folded, top=12):
                    say(f"    {line}")
    print(
        json.dumps(
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in figures.items()}
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
