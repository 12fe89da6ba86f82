"""``socialdesk republish --since TIME``: publish retained outbox events again, by hand.

The relays do this on their own when they see the broker lost data; this is the
operator's lever for what they cannot see (a topic restored from a backup older than
what was acknowledged, a consumer group reset by mistake). Rows published since TIME are
marked unpublished in each service's database; the running relays send them again in id
order, and every consumer's inbox drops the ones it already had, so nothing doubles.

Only rows still retained (``outbox_retention_seconds``, 7 days by default) can be sent.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_runtime.db import create_engine, outbox_table
from socialdesk_runtime.retention import mark_for_republish
from socialdesk_runtime.stack.services import STACK_SERVICES

__all__ = ["Marked", "database_urls", "mark_since", "parse_since", "republish_command", "unpublished_up_to"]

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(value: str, *, now: datetime) -> datetime:
    """An ISO 8601 time (``2026-11-28T01:00Z``; UTC if no offset) or an age (``90m``, ``2h``)."""
    text = value.strip()
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is neither an ISO 8601 time nor an age like 90m or 2h") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Marked:
    rows: int
    last_id: int | None


async def mark_since(engine: AsyncEngine, since: datetime) -> Marked:
    """Mark every retained row published at or after ``since`` for publishing again."""
    async with engine.begin() as conn:
        last_id = (
            await conn.execute(
                select(func.max(outbox_table.c.id)).where(outbox_table.c.published_at >= since)
            )
        ).scalar_one()
        rows = await mark_for_republish(conn, since=since)
    return Marked(rows, last_id)


async def unpublished_up_to(engine: AsyncEngine, last_id: int) -> int:
    """Rows up to ``last_id`` that the relay has not (re)published yet."""
    async with engine.connect() as conn:
        q = select(func.count()).where(outbox_table.c.published_at.is_(None), outbox_table.c.id <= last_id)
        return int((await conn.execute(q)).scalar_one())


async def _run(
    urls: Mapping[str, str], since: datetime, *, wait: bool, timeout_s: float, console: Console
) -> int:
    engines = {name: create_engine(url, pool_size=1) for name, url in urls.items()}
    try:
        marked = {name: await mark_since(engine, since) for name, engine in engines.items()}
        for name, m in marked.items():
            console.print(f"{name}: {m.rows} events marked for publishing again")
        if not wait:
            return 0
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            tasks = {n: progress.add_task(n, total=m.rows) for n, m in marked.items() if m.rows}
            deadline = asyncio.get_running_loop().time() + timeout_s
            while tasks:
                for name, task in list(tasks.items()):
                    last_id = marked[name].last_id
                    assert last_id is not None  # rows were marked
                    left = await unpublished_up_to(engines[name], last_id)
                    progress.update(task, completed=marked[name].rows - min(left, marked[name].rows))
                    if left == 0:
                        del tasks[name]
                if tasks and asyncio.get_running_loop().time() > deadline:
                    console.print(
                        f"not all republished after {timeout_s:.0f}s (are the services running?): "
                        + ", ".join(sorted(tasks)),
                    )
                    return 1
                await asyncio.sleep(0.2)
        return 0
    finally:
        for engine in engines.values():
            await engine.dispose()


def database_urls(
    services: Sequence[str], database_url: str | None, environ: Mapping[str, str]
) -> dict[str, str]:
    """The database of each chosen service (all when none is), for the operator's commands
    that work on every service's outbox (``republish``, ``outbox refused|retry``): from
    ``<SERVICE>_DATABASE_URL``, or ``database_url`` for exactly one ``--service``."""
    known = {s.name: s for s in STACK_SERVICES}
    unknown = [s for s in services if s not in known]
    if unknown:
        raise typer.BadParameter(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = list(services) or list(known)
    if database_url is not None:
        if len(chosen) != 1:
            raise typer.BadParameter("--database-url needs exactly one --service")
        return {chosen[0]: database_url}
    missing = [known[s].database_url_env for s in chosen if not environ.get(known[s].database_url_env)]
    if missing:
        raise typer.BadParameter(f"set {', '.join(missing)} (or pass --service and --database-url)")
    return {s: environ[known[s].database_url_env] for s in chosen}


def republish_command(
    since: Annotated[str, typer.Option(help="ISO 8601 time (UTC if no offset) or an age like 90m, 2h, 1d.")],
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Only this service (repeatable); default: all.")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="The database of the one --service (default: <SERVICE>_DATABASE_URL).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Show progress until the relays have sent them all.")] = True,
    timeout: Annotated[float, typer.Option(help="Give up waiting after this many seconds.")] = 600.0,
) -> None:
    """Publish again every retained event published since SINCE (consumers dedupe)."""
    when = parse_since(since, now=datetime.now(UTC))
    urls = database_urls(service or [], database_url, os.environ)
    code = asyncio.run(_run(urls, when, wait=wait, timeout_s=timeout, console=Console()))
    raise typer.Exit(code)
