"""``socialdesk freshdesk``: backfill the open tickets, and reconcile the two sides.

After a brand's connector is switched on (``freshdesk.brands.<id>.enabled: true``), the
tickets opened before have no Freshdesk ticket yet: ``backfill`` owes a create for each
open one (from the notifier's mirror of open tickets); the running notifier sends them
within the rate budget, in each ticket's order. Running it twice owes nothing twice.

``reconcile`` reads every synced ticket back from Freshdesk (paced like the connector)
and reports the ones that differ: missing there, status, priority or marker tag not what
socialdesk set, and open tickets with no Freshdesk ticket. Exit code 1 when any differ.

Usage::

    socialdesk freshdesk backfill [--brand ourbus] [--dry-run]
    socialdesk freshdesk reconcile [--brand ourbus]

Settings and configuration as the notifier reads them (``NOTIFIER_DATABASE_URL``,
``SOCIALDESK_CONFIG``, the API key's environment variable).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import httpx
import typer

from socialdesk_notifier.freshdesk.client import FreshdeskAccount
from socialdesk_notifier.freshdesk.domain.ops import RESOLVED, Mirror, backfill_plan, marker_tag
from socialdesk_notifier.freshdesk.store import FreshdeskStore
from socialdesk_notifier.settings import NotifierSettings
from socialdesk_runtime.config import SocialdeskConfig, load_config
from socialdesk_runtime.config.freshdesk import FreshdeskBrand
from socialdesk_runtime.db import UnitOfWorkFactory, create_engine
from socialdesk_runtime.settings import load_settings

__all__ = ["Difference", "app", "compare", "run_backfill", "run_reconcile"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="The Freshdesk connector (issue 13).")

_T = TypeVar("_T")
_BACKFILL_NS = uuid.UUID("0d4c8f6e-2b7a-4a51-9a3e-5f1e7c2d9b40")
CHUNK = 100


def _brands(config: SocialdeskConfig, only: str | None) -> dict[str, FreshdeskBrand]:
    brands = {b: a for b, a in config.freshdesk.brands.items() if a.enabled and only in (None, b)}
    if not brands:
        typer.echo("no enabled Freshdesk brand" + (f" named {only!r}" if only else ""), err=True)
        raise typer.Exit(2)
    return brands


async def run_backfill(
    uow_factory: UnitOfWorkFactory, brands: dict[str, FreshdeskBrand], *, dry_run: bool, now: datetime
) -> int:
    """Owe a create for every open ticket with none; returns how many."""
    total = 0
    for brand, account in brands.items():
        async with uow_factory() as uow:
            tickets = await FreshdeskStore(uow).open_tickets(brand, unsynced=True)
        if dry_run:
            typer.echo(f"{brand}: {len(tickets)} open tickets without a Freshdesk ticket")
            total += len(tickets)
            continue
        with typer.progressbar(length=len(tickets), label=f"{brand}: owing creates") as progress:
            for start in range(0, len(tickets), CHUNK):
                chunk = tickets[start : start + CHUNK]
                plans = [(m, backfill_plan(m, account)) for m in chunk]
                async with uow_factory() as uow:
                    store = FreshdeskStore(uow)
                    await store.enqueue(
                        [
                            (uuid.uuid5(_BACKFILL_NS, str(m.ticket_id)), m.ticket_id, brand, p)
                            for m, p in plans
                        ],
                        now=now,
                    )
                    for m, p in plans:  # what we set, for reconcile and later escalations
                        await store.decided(
                            m.ticket_id, fd_priority=p.payload["priority"], fd_tags=p.payload["tags"]
                        )
                    await uow.commit()
                progress.update(len(chunk))
        total += len(tickets)
    return total


@dataclass(frozen=True, slots=True)
class Difference:
    ticket_id: uuid.UUID
    fd_ticket_id: int | None
    what: str


def compare(mirror: Mirror, remote: dict[str, object] | None) -> list[str]:
    """What differs between what socialdesk set and what Freshdesk has (pure)."""
    if remote is None:
        return ["missing in Freshdesk"]
    out: list[str] = []
    tags = remote.get("tags") or []
    if isinstance(tags, list) and marker_tag(mirror.ticket_id) not in tags:
        out.append("marker tag missing")
    if mirror.fd_priority is not None and remote.get("priority") != mirror.fd_priority:
        out.append(f"priority {remote.get('priority')} (socialdesk set {mirror.fd_priority})")
    status = remote.get("status")
    if mirror.state == "resolved" and status not in (RESOLVED, 5):
        out.append(f"status {status} but resolved in socialdesk")
    if mirror.state == "open" and status in (RESOLVED, 5) and mirror.fd_status not in (RESOLVED, 5):
        out.append(f"status {status} but open in socialdesk")
    return out


async def run_reconcile(
    uow_factory: UnitOfWorkFactory, accounts: dict[str, FreshdeskAccount]
) -> list[Difference]:
    differences: list[Difference] = []
    for brand, account in accounts.items():
        async with uow_factory() as uow:
            store = FreshdeskStore(uow)
            synced = await store.synced(brand)
            unsynced = await store.open_tickets(brand, unsynced=False)
        differences.extend(
            Difference(m.ticket_id, None, "open in socialdesk, no Freshdesk ticket yet")
            for m in unsynced
            if m.fd_ticket_id is None
        )
        with typer.progressbar(synced, label=f"{brand}: reading Freshdesk") as progress:
            for mirror in progress:
                assert mirror.fd_ticket_id is not None
                answer = await account.get_ticket(
                    mirror.fd_ticket_id, max_wait=account.settings.rate_window_seconds
                )
                if answer.status not in (200, 404):
                    differences.append(
                        Difference(mirror.ticket_id, mirror.fd_ticket_id, f"unreadable: HTTP {answer.status}")
                    )
                    continue
                remote = answer.body if answer.status == 200 and isinstance(answer.body, dict) else None
                differences.extend(
                    Difference(mirror.ticket_id, mirror.fd_ticket_id, w) for w in compare(mirror, remote)
                )
    return differences


@app.command("backfill")
def backfill(
    brand: Annotated[str | None, typer.Option(help="Only this brand.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Count, owe nothing.")] = False,
) -> None:
    """Owe a Freshdesk ticket for every open ticket that has none (the notifier sends them)."""
    settings = load_settings(NotifierSettings)
    brands = _brands(load_config(settings.config_path), brand)

    async def work(uow_factory: UnitOfWorkFactory) -> int:
        return await run_backfill(uow_factory, brands, dry_run=dry_run, now=datetime.now(UTC))

    count = asyncio.run(_run(settings, work))
    typer.echo(f"{count} tickets {'to backfill' if dry_run else 'owed to Freshdesk'}")


@app.command("reconcile")
def reconcile(brand: Annotated[str | None, typer.Option(help="Only this brand.")] = None) -> None:
    """Report tickets that differ between socialdesk and Freshdesk."""
    settings = load_settings(NotifierSettings)
    config = load_config(settings.config_path)
    brands = _brands(config, brand)

    async def work(uow_factory: UnitOfWorkFactory) -> list[Difference]:
        async with httpx.AsyncClient(timeout=settings.platform_timeout_seconds) as http:
            accounts = {
                b: FreshdeskAccount(b, a, api_key=functools.partial(config.secret, a.api_key_env), http=http)
                for b, a in brands.items()
            }
            return await run_reconcile(uow_factory, accounts)

    differences = asyncio.run(_run(settings, work))
    for d in differences:
        typer.echo(f"{d.ticket_id}  {d.fd_ticket_id or '-':>10}  {d.what}")
    typer.echo(f"{len(differences)} differences")
    if differences:
        raise typer.Exit(1)


async def _run(settings: NotifierSettings, work: Callable[[UnitOfWorkFactory], Awaitable[_T]]) -> _T:
    engine = create_engine(settings.database_url, pool_size=2)
    try:
        return await work(UnitOfWorkFactory(engine))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    app()
