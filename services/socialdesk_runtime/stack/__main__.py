"""``python -m socialdesk_runtime.stack``: the command line of the stack launcher.

Usage::

    python -m socialdesk_runtime.stack run --config deploy/config/socialdesk.example.yaml --demo
    python -m socialdesk_runtime.stack replay deploy/demo/messages.jsonl   # into a running stack
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from socialdesk_runtime.embedded import EmbeddedStartError
from socialdesk_runtime.stack.demo import DEFAULT_API_KEY, DemoStats, replay
from socialdesk_runtime.stack.launcher import RunOptions, StackStartError, run_stack

app = typer.Typer(
    help="Run socialdesk locally: embedded Kafka (Tansu) and PostgreSQL, the five services, a live view.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Keeps ``run`` an explicit sub-command even while it is the main one."""


@app.command()
def run(
    config: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="deployment YAML (brands, agents, SLA...)")
    ] = Path("deploy/config/socialdesk.example.yaml"),
    demo: Annotated[bool, typer.Option(help="replay the demo stream once every service is ready")] = False,
    demo_file: Annotated[Path, typer.Option(exists=True, dir_okay=False)] = Path(
        "deploy/demo/messages.jsonl"
    ),
    demo_rate: Annotated[float, typer.Option(min=0.1, help="demo messages per second")] = 4.0,
    demo_sla_seconds: Annotated[
        int,
        typer.Option(
            min=0,
            help="with --demo: scale SLA targets so first response is this many seconds (0 = as configured)",
        ),
    ] = 60,
    demo_reply_ratio: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="share of assigned tickets the demo agents answer")
    ] = 0.5,
    fresh: Annotated[bool, typer.Option(help="wipe the state directory (databases, logs) first")] = False,
    durable: Annotated[
        bool,
        typer.Option(help="PostgreSQL fsync on; --no-durable is faster but a machine crash can corrupt it"),
    ] = True,
    state_dir: Annotated[Path, typer.Option(help="where data and logs live (gitignored)")] = Path(
        ".socialdesk"
    ),
    http_port_base: Annotated[int, typer.Option(help="first of five consecutive HTTP ports")] = 8081,
    live: Annotated[
        bool | None, typer.Option("--live/--plain", help="live screen or plain summaries (default: by TTY)")
    ] = None,
) -> None:
    """Start the whole stack and keep it running until Ctrl-C."""
    console = Console()
    options = RunOptions(
        config=config,
        state_dir=state_dir,
        demo=demo,
        demo_file=demo_file,
        demo_rate=demo_rate,
        demo_sla_seconds=demo_sla_seconds,
        demo_reply_ratio=demo_reply_ratio,
        fresh=fresh,
        durable=durable,
        http_port_base=http_port_base,
        live=live,
    )
    try:
        code = run_stack(options, console=console)
    except (StackStartError, EmbeddedStartError, ValueError) as exc:
        console.print(f"[bold red]socialdesk stack cannot start:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command("replay")
def replay_cmd(
    messages: Annotated[Path, typer.Argument(exists=True, dir_okay=False)] = Path(
        "deploy/demo/messages.jsonl"
    ),
    ingest_url: Annotated[str, typer.Option(help="base URL of ingest")] = "http://127.0.0.1:8081",
    api_key: Annotated[str, typer.Option(envvar="SOCIALDESK_API_KEY")] = DEFAULT_API_KEY,
    rate: Annotated[float, typer.Option(min=0.1)] = 4.0,
) -> None:
    """Post a JSONL stream of messages to a running ingest (each run gets fresh ids)."""
    stats = DemoStats()
    asyncio.run(replay(messages, ingest_url.rstrip("/"), api_key, stats, rate=rate))
    typer.echo(f"posted {stats.posted}/{stats.total}, rejected {stats.rejected}")
    for error in stats.errors:
        typer.echo(f"  {error}", err=True)
    raise typer.Exit(0 if stats.rejected == 0 else 1)


if __name__ == "__main__":
    app()
