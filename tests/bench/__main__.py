"""``python -m tests.bench [--runs N] [--quick] [--durable]``: what ``make bench`` runs.

Prints the figures of each run as it goes, then a summary with the ratios of the same
run(s) and PASS/FAIL per target, then, as the very last line, one JSON object.
With ``--runs N`` every figure is the median of the N runs' figures (this machine is
shared and noisy; a median of three is what to quote).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import signal
import statistics
import sys
from typing import Any

from tests.bench.assigner_cpu import TARGET_ASSIGNER_CPU_MS, measure_assigner_cpu_in_child
from tests.bench.desk import TARGET_ASSIGN_P99_MS, TARGET_TICKET_P99_MS
from tests.bench.replies import measure_replies
from tests.bench.runner import Options, run_once, say
from tests.bench.sla import TARGETS as SLA_TARGETS
from tests.bench.sla import measure_sla
from tests.bench.slack import TARGET_BREACH_TO_POST_P99_MS, measure_slack
from tests.bench.stack import without_slack_token
from tests.bench.webhooks import TARGET_ACK_P99_MS, TARGET_RATIO

#: Issue 2's targets for this stage, on a two-core machine.
TARGET_E2E_MSGS_PER_S = 500.0
TARGET_P99_MS = 300.0


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


def _median(values: list[Any]) -> Any:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != len(values):
        return values[-1]
    if any(math.isnan(v) for v in numbers):
        return math.nan  # a run that could not measure it: the median would hide that
    return statistics.median(numbers)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 4)
    return value


def _at_most(f: dict[str, Any], key: str, limit: float) -> bool:
    value = f.get(key, math.nan)
    return isinstance(value, int | float) and not math.isnan(value) and value <= limit


def _at_least(f: dict[str, Any], key: str, limit: float) -> bool:
    value = f.get(key, math.nan)
    return isinstance(value, int | float) and not math.isnan(value) and value >= limit


#: Later issues' targets: (figure, "max" or "min", limit).
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("webhook_ack_p99_ms", "max", TARGET_ACK_P99_MS),
    ("webhook_vs_bare_ratio", "min", TARGET_RATIO),
    ("desk_ticket_p99_ms", "max", TARGET_TICKET_P99_MS),
    ("assign_decision_p99_ms", "max", TARGET_ASSIGN_P99_MS),
    ("sla_lateness_p99_ms", "max", SLA_TARGETS["sla_lateness_p99_ms"]),
    ("sla_rss_mb", "max", SLA_TARGETS["sla_rss_mb"]),
    ("sla_restart_ready_s", "max", SLA_TARGETS["sla_restart_ready_s"]),
    ("replies_throttled_total", "max", 1.0),
    ("slack_breach_to_post_p99_ms", "max", TARGET_BREACH_TO_POST_P99_MS),
    ("assigner_cpu_ms_per_msg", "max", TARGET_ASSIGNER_CPU_MS),
)


def _verdicts(f: dict[str, Any]) -> dict[str, bool]:
    e2e, p99 = f["e2e_msgs_per_s"], f["e2e_p99_ms"]
    later = {key: (_at_most if kind == "max" else _at_least)(f, key, limit) for key, kind, limit in TARGETS}
    return later | {
        "e2e_throughput": not math.isnan(e2e)
        and e2e >= TARGET_E2E_MSGS_PER_S
        and f["throughput_missing"] == 0,
        "e2e_p99_latency": not math.isnan(p99) and p99 <= TARGET_P99_MS and f["latency_missing"] == 0,
    }


def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, Options]:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs on fresh stacks; figures are medians")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (figures are rough)")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="PostgreSQL with fsync on, as `make run` starts it (default: non-durable, as the tests)",
    )
    parser.add_argument("--messages", type=int, help="messages offered in the throughput phase")
    parser.add_argument("--concurrency", type=int, help="intake requests in flight in the throughput phase")
    parser.add_argument("--rate", type=float, help="offered rate of the latency phase (msg/s)")
    parser.add_argument("--seconds", type=float, help="duration of the latency phase")
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for every service (tuning experiments; printed with the figures)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    env = {}
    for item in args.service_env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--service-env wants NAME=VALUE, got {item!r}")
        env[name] = value
    over: dict[str, Any] = {"durable": args.durable, "service_env": env}
    for flag, key in (
        ("messages", "throughput_messages"),
        ("concurrency", "concurrency"),
        ("rate", "latency_rate"),
        ("seconds", "latency_seconds"),
    ):
        if getattr(args, flag) is not None:
            over[key] = getattr(args, flag)
    return args, Options.quick(**over) if args.quick else Options(**over)


def main(argv: list[str] | None = None) -> int:
    args, opts = _parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A SIGTERM (CI timeout, `kill`) unwinds like Ctrl-C, so every process and temp dir is
    # cleaned up by the context managers on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    without_slack_token()
    machine = _machine()
    say(f"socialdesk bench on {machine['nproc']} CPUs ({machine['cpu']}), Python {machine['python']}")
    if opts.service_env:
        say(f"service settings changed from the product defaults: {opts.service_env}")

    runs: list[dict[str, Any]] = []
    try:
        for n in range(1, args.runs + 1):
            runs.append(run_once(opts, number=n, of=args.runs))
    except KeyboardInterrupt:
        say("interrupted: every process stopped, temporary files removed")
        return 130

    keys = list(dict.fromkeys(k for run in runs for k in run))
    figures = {k: _median([run.get(k, math.nan) for run in runs]) for k in keys}
    # Each starts its own broker and database and takes minutes at full size: once per bench.
    try:
        say("SLA monitor: timers armed, fired at a fixed rate, restarted (own broker and PostgreSQL) ...")
        timers = 20_000 if args.quick else 1_000_000
        figures.update(measure_sla(timers, fire_seconds=5 if args.quick else 20, say=say))
        say("replies through a rate-limited Graph fake (own PostgreSQL) ...")
        figures.update(measure_replies(120, 40, 40) if args.quick else measure_replies(600, 200, 100))
        say("Slack: breaches on sla.events to posts in a paced Slack fake (own broker and PostgreSQL) ...")
        figures.update(measure_slack(60 if args.quick else 300, say=say))
        say("assigner CPU per customer message through the real consumer path (own PostgreSQL) ...")
        cpu, note = measure_assigner_cpu_in_child(messages=1000 if args.quick else 5000, batch=100)
        say(f"    {note}")
        figures.update(cpu or {})
    except KeyboardInterrupt:
        say("interrupted: every process stopped, temporary files removed")
        return 130
    verdicts = _verdicts(figures)
    how = f"median of {len(runs)} runs" if len(runs) > 1 else "one run"
    say()
    say(
        f"summary ({how}; PostgreSQL {'durable' if opts.durable else 'non-durable'}"
        f"{'; quick smoke run' if args.quick else ''})"
    )
    say(f"  raw broker produce→consume    {figures['broker_msgs_per_s']:>8.0f} msg/s")
    say(f"  intake acceptance             {figures['intake_msgs_per_s']:>8.0f} msg/s")
    say(
        f"  end to end (steady)           {figures['e2e_msgs_per_s']:>8.0f} msg/s   "
        f"= {figures['e2e_to_broker_ratio'] * 100:.1f}% of the broker rate   "
        f"target ≥ {TARGET_E2E_MSGS_PER_S:.0f}: {'PASS' if verdicts['e2e_throughput'] else 'FAIL'}"
    )
    say(
        f"  latency at {figures['latency_offered_per_s']:.0f} msg/s            p50 {figures['e2e_p50_ms']:.0f} ms, "
        f"p90 {figures['e2e_p90_ms']:.0f} ms, p99 {figures['e2e_p99_ms']:.0f} ms, max {figures['e2e_max_ms']:.0f} ms   "
        f"target p99 ≤ {TARGET_P99_MS:.0f} ms: {'PASS' if verdicts['e2e_p99_latency'] else 'FAIL'}"
    )
    if "classifier_posts_per_s" in figures:
        say(
            f"  classifier library            {figures['classifier_posts_per_s']:>8.0f} posts/s, "
            f"p99 {figures.get('classifier_p99_ms', math.nan):.1f} ms, RSS {figures.get('classifier_rss_mb', math.nan):.0f} MB"
        )
    else:
        say("  classifier library            not measured (see above)")

    for key, kind, limit in TARGETS:
        value = figures.get(key, math.nan)
        sign = "≤" if kind == "max" else "≥"
        say(f"  {key:<30}{value:>10.2f}   target {sign} {limit:g}: {'PASS' if verdicts[key] else 'FAIL'}")
    for key in (
        "sla_timers_armed",
        "replies_per_s",
        "desk_ticket_median_ms",
        "webhook_ack_backlog_p99_ms",
        "webhook_settle_s",
        "slack_posts_throttled",
        "slack_breaches_missing",
        "assigner_statements_per_batch",
    ):
        if key in figures:
            say(f"  {key:<30}{figures[key]:>10.2f}")

    out: dict[str, Any] = {k: _json_safe(v) for k, v in figures.items()}
    out.update(
        runs=len(runs),
        durable=opts.durable,
        quick=args.quick,
        targets={
            "e2e_msgs_per_s": {"min": TARGET_E2E_MSGS_PER_S, "pass": verdicts["e2e_throughput"]},
            "e2e_p99_ms": {"max": TARGET_P99_MS, "pass": verdicts["e2e_p99_latency"]},
            **{key: {kind: limit, "pass": verdicts[key]} for key, kind, limit in TARGETS},
        },
        machine=machine,
        service_env=dict(opts.service_env),
    )
    print(json.dumps(out, sort_keys=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
