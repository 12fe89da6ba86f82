"""ingest's operator commands: ``replay`` (mounted as ``socialdesk replay``, or run as
``python -m socialdesk_ingest.cli replay --since 2h``)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from socialdesk_ingest.replay import Replayed, replay
from socialdesk_ingest.settings import IngestSettings
from socialdesk_runtime.clock import SystemClock
from socialdesk_runtime.config import ConfigError, SocialdeskConfig, load_config
from socialdesk_runtime.db import create_engine
from socialdesk_runtime.republish import parse_since

__all__ = ["app", "replay_command"]

app = typer.Typer(name="socialdesk-ingest", no_args_is_help=True, add_completion=False)


@app.callback()
def _group() -> None:
    """ingest's operator commands."""


def replay_command(
    since: Annotated[str, typer.Option(help="ISO 8601 time (UTC if no offset) or an age like 90m, 2h, 1d.")],
    database_url: Annotated[
        str | None, typer.Option(help="ingest's database (default: INGEST_DATABASE_URL).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="The deployment's configuration (default: SOCIALDESK_CONFIG).")
    ] = None,
) -> None:
    """Extract again every platform webhook delivery received since SINCE (idempotent)."""
    console = Console(stderr=True)
    url = database_url or os.environ.get("INGEST_DATABASE_URL")
    path = config or (Path(os.environ["SOCIALDESK_CONFIG"]) if os.environ.get("SOCIALDESK_CONFIG") else None)
    if not url or path is None:
        raise typer.BadParameter(
            "set INGEST_DATABASE_URL and SOCIALDESK_CONFIG (or pass --database-url, --config)"
        )
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        console.print(str(exc))
        raise typer.Exit(2) from None
    when = parse_since(since, now=datetime.now(UTC))
    idle = float(
        os.environ.get(
            "INGEST_CONVERSATION_IDLE_SECONDS",
            IngestSettings.model_fields["conversation_idle_seconds"].default,
        )
    )
    result = asyncio.run(_run(url, when, cfg, idle, console))
    console.print(
        f"replayed {result.deliveries} deliveries since {when.isoformat()}: {result.messages} new messages, "
        f"{result.facts} new facts, {result.failed} failed"
    )
    if result.failed:
        raise typer.Exit(1)


async def _run(url: str, when: datetime, cfg: SocialdeskConfig, idle: float, console: Console) -> Replayed:
    engine = create_engine(url, pool_size=1)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("deliveries", total=None)
            return await replay(
                engine,
                since=when,
                config=cfg,
                clock=SystemClock(),
                idle_seconds=idle,
                on_total=lambda n: progress.update(task, total=n),
                on_progress=lambda n: progress.advance(task, n),
            )
    finally:
        await engine.dispose()


app.command("replay")(replay_command)

if __name__ == "__main__":
    app()
