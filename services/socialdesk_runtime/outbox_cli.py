"""``socialdesk outbox refused|retry``: the rows the broker refused for good, and sending them again.

A relay parks a row the broker refuses even alone (too large, invalid) in its database's
``outbox_refused`` and goes on with the later ones (:mod:`socialdesk_runtime.outbox_refusals`).
``refused`` lists them per service; ``retry`` moves them back into the outbox as new rows,
at the end of the queue, once their cause is fixed (the broker's ``message.max.bytes``
raised, say). The running relays then send them; one refused again is parked again.

Usage::

    socialdesk outbox refused
    socialdesk outbox retry --service notifier --id 4211
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from typing import Annotated

import typer

from socialdesk_runtime.db import create_engine
from socialdesk_runtime.outbox_refusals import RefusedRow, list_refused, retry_refused
from socialdesk_runtime.republish import database_urls

__all__ = ["outbox_app"]

outbox_app = typer.Typer(no_args_is_help=True, help="Outbox rows the broker refused for good.")

_Services = Annotated[
    list[str] | None, typer.Option("--service", help="Only this service (repeatable); default: all.")
]
_DatabaseUrl = Annotated[
    str | None, typer.Option(help="The database of the one --service (default: <SERVICE>_DATABASE_URL).")
]


def _line(row: RefusedRow) -> str:
    error = row.error.splitlines()[0][:200] if row.error else ""
    return (
        f"  id {row.id}  {row.topic}  event {row.event_id or '-'}  {row.size_bytes} bytes  "
        f"refused {row.refused_at.isoformat(timespec='seconds')}  {error}"
    )


async def _list(urls: Mapping[str, str]) -> dict[str, list[RefusedRow]]:
    found: dict[str, list[RefusedRow]] = {}
    for name, url in urls.items():
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                found[name] = await list_refused(conn)
        finally:
            await engine.dispose()
    return found


async def _retry(urls: Mapping[str, str], ids: Sequence[int] | None) -> dict[str, list[int]]:
    moved: dict[str, list[int]] = {}
    for name, url in urls.items():
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                moved[name] = await retry_refused(conn, ids)
        finally:
            await engine.dispose()
    return moved


@outbox_app.command("refused")
def refused_command(service: _Services = None, database_url: _DatabaseUrl = None) -> None:
    """List the rows each service's relay parked: outbox id, topic, event id, size, when, why."""
    urls = database_urls(service or [], database_url, os.environ)
    for name, rows in asyncio.run(_list(urls)).items():
        typer.echo(f"{name}: {len(rows)} refused")
        for row in rows:
            typer.echo(_line(row))


@outbox_app.command("retry")
def retry_command(
    service: _Services = None,
    database_url: _DatabaseUrl = None,
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="Only this outbox id (repeatable; needs one --service).")
    ] = None,
) -> None:
    """Put refused rows back into the outbox, at the end of the queue (all, or --id ones)."""
    if ids and len(service or []) != 1:
        raise typer.BadParameter("--id needs exactly one --service (outbox ids are per database)")
    urls = database_urls(service or [], database_url, os.environ)
    for name, new_ids in asyncio.run(_retry(urls, ids or None)).items():
        where = f" (new outbox ids {', '.join(map(str, new_ids))})" if new_ids else ""
        typer.echo(f"{name}: {len(new_ids)} refused rows back in the outbox{where}")
        if ids and len(new_ids) < len(set(ids)):
            typer.echo(
                f"{name}: {len(set(ids)) - len(new_ids)} of the given ids are not refused rows", err=True
            )
            raise typer.Exit(1)
