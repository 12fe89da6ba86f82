"""``socialdesk notifier``: see and re-drive the deliveries the notifier gave up on.

A delivery fails for good on a permanent refusal (a revoked token, an unknown channel, a
closed window), after ``give_up_after_hours`` of retries, or as ``unverifiable`` when an
earlier attempt may have gone out and the channel cannot be read to check (e.g. a Slack
token without ``channels:history``). Each one is counted in
``notifier_delivery_failures_total{channel,reason}`` (alert on any increase). Once the
cause is fixed, re-drive them: they go back to pending, their age counted from now.

Usage::

    python -m socialdesk_notifier.cli failed [--since 2026-01-01T00:00:00+00:00]
    python -m socialdesk_notifier.cli redrive --all [--reason token_expired] [--force]
    python -m socialdesk_notifier.cli redrive 0b6c...e1 4f2a...9c

``--force`` re-sends an ``unverifiable`` delivery without looking for the earlier attempt
first: only when a person has checked that it did not go out. Settings as the service
reads them (``NOTIFIER_DATABASE_URL``...).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer

from socialdesk_notifier.settings import NotifierSettings
from socialdesk_notifier.store import DeliveryStore
from socialdesk_runtime.db import UnitOfWorkFactory, create_engine
from socialdesk_runtime.settings import load_settings

__all__ = ["app", "failed", "redrive", "run_redrive"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Deliveries the notifier gave up on.")


async def _failed(database_url: str, since: datetime | None) -> list[dict[str, object]]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with UnitOfWorkFactory(engine)() as uow:
            return await DeliveryStore(uow).failed(since=since)
    finally:
        await engine.dispose()


async def run_redrive(
    database_url: str,
    *,
    ids: list[uuid.UUID],
    every: bool,
    reason: str | None,
    since: datetime | None,
    force: bool,
    now: datetime,
) -> int:
    """Back to pending: the failed deliveries named (or all, of ``reason``, since ``since``)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with UnitOfWorkFactory(engine)() as uow:
            store = DeliveryStore(uow)
            if every:
                rows = await store.failed(since=since, limit=100_000)
                ids = [r["id"] for r in rows if reason is None or r["failure_reason"] == reason]
            count = await store.redrive(ids, now=now, force=force)
            await uow.commit()
            return count
    finally:
        await engine.dispose()


@app.command("failed")
def failed(
    since: Annotated[datetime | None, typer.Option(help="Only deliveries created since (ISO 8601).")] = None,
) -> None:
    """List the deliveries given up on: id, channel, reason, error."""
    settings = load_settings(NotifierSettings)
    rows = asyncio.run(_failed(settings.database_url, since))
    for row in rows:
        typer.echo(f"{row['id']}  {row['channel']:<9} {row['failure_reason'] or '-':<20} {row['last_error']}")
    typer.echo(f"{len(rows)} failed deliveries")


@app.command("redrive")
def redrive(
    ids: Annotated[list[str] | None, typer.Argument(help="Delivery ids (see `failed`).")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every failed delivery (narrow with --reason/--since).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Only those failed for this reason.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only deliveries created since (ISO 8601).")] = None,
    force: Annotated[
        bool, typer.Option(help="Do not look for an earlier attempt first (unverifiable ones).")
    ] = False,
) -> None:
    """Send failed deliveries again (the notifier picks them up within a poll)."""
    if not ids and not every:
        typer.echo("name delivery ids, or --all", err=True)
        raise typer.Exit(2)
    settings = load_settings(NotifierSettings)
    parsed = [uuid.UUID(i) for i in ids or []]
    count = asyncio.run(
        run_redrive(
            settings.database_url,
            ids=parsed,
            every=every,
            reason=reason,
            since=since,
            force=force,
            now=datetime.now(UTC),
        )
    )
    typer.echo(f"{count} deliveries re-driven")


if __name__ == "__main__":
    app()
