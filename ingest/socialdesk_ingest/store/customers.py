"""The repository's customer profiles: identities linked across channels."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from socialdesk_ingest.domain import IncomingAuthor, LinkedTicket
from socialdesk_ingest.tables import conversations, customers
from socialdesk_runtime.db import UnitOfWork

__all__ = ["CustomerStore", "same_phone_links"]


class CustomerStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def existing(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """customer id → its profile id (itself when not linked), for the known ones."""
        rows = await self._uow.conn.execute(
            select(customers.c.id, customers.c.profile_id)
            .where(customers.c.id.in_(list(ids)))
            .with_for_update()
        )
        return {r.id: r.profile_id or r.id for r in rows}

    async def link(self, ids: Collection[uuid.UUID], profile_id: uuid.UUID) -> list[uuid.UUID]:
        """Put the customers and everyone already linked to any of them into ``profile_id``;
        every member of the profile after the link."""
        profiles = set((await self.existing(ids)).values())
        await self._uow.conn.execute(
            update(customers)
            .where(
                or_(customers.c.id.in_(list(profiles | set(ids))), customers.c.profile_id.in_(list(profiles)))
            )
            .values(profile_id=profile_id)
        )
        return await self.members(profile_id)

    async def unlink(self, customer_id: uuid.UUID) -> uuid.UUID | None:
        """Take a customer out of its profile; the profile it was in (``None``: not linked)."""
        row = (
            await self._uow.conn.execute(
                select(customers.c.profile_id).where(customers.c.id == customer_id).with_for_update()
            )
        ).first()
        if row is None or row.profile_id is None:
            return None
        profile: uuid.UUID = row.profile_id
        await self._uow.conn.execute(
            update(customers).where(customers.c.id == customer_id).values(profile_id=None)
        )
        if profile == customer_id:
            # It was the profile's anchor: the others keep their link under a remaining member.
            rest = await self.members(profile)
            if rest:
                await self._uow.conn.execute(
                    update(customers).where(customers.c.profile_id == profile).values(profile_id=rest[0])
                )
        return profile

    async def identify(
        self, placeholder: uuid.UUID, *, brand: str, platform: str, author: IncomingAuthor
    ) -> uuid.UUID | None:
        """The placeholder customer of a message whose author the platform withheld becomes
        ``author``, read later: their id, handle and name. ``None`` when done in place; when
        another customer already has that id, the placeholder takes the name only and that
        customer's id is returned (the two are then one person: the caller links them)."""
        other = await self._known(brand, platform, author.platform_user_id)
        if other is None:
            try:
                async with self._uow.conn.begin_nested():
                    await self._rename(placeholder, author, platform_user_id=author.platform_user_id)
                return None
            except IntegrityError:  # a message of theirs stored meanwhile made them a customer
                other = await self._known(brand, platform, author.platform_user_id)
        await self._rename(placeholder, author)
        return other

    async def _known(self, brand: str, platform: str, platform_user_id: str) -> uuid.UUID | None:
        row = (
            await self._uow.conn.execute(
                select(customers.c.id).where(
                    customers.c.brand == brand,
                    customers.c.platform == platform,
                    customers.c.platform_user_id == platform_user_id,
                )
            )
        ).first()
        return None if row is None else row.id

    async def _rename(self, customer_id: uuid.UUID, author: IncomingAuthor, **values: object) -> None:
        await self._uow.conn.execute(
            update(customers)
            .where(customers.c.id == customer_id)
            .values(handle=author.handle, display_name=author.display_name, **values)
        )

    async def members(self, profile_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self._uow.conn.execute(
            select(customers.c.id)
            .where(customers.c.profile_id == profile_id)
            .order_by(customers.c.first_seen_at)
        )
        return [r.id for r in rows]

    async def profile(self, customer_id: uuid.UUID) -> list[dict[str, object]]:
        """Every identity of the customer's profile (the customer alone when not linked)."""
        me = (
            await self._uow.conn.execute(select(customers.c.profile_id).where(customers.c.id == customer_id))
        ).first()
        if me is None:
            return []
        profile = me.profile_id or customer_id
        rows = await self._uow.conn.execute(
            select(customers)
            .where(or_(customers.c.id == profile, customers.c.profile_id == profile))
            .order_by(customers.c.first_seen_at)
        )
        return [
            {
                "customer_id": str(r.id),
                "profile_id": str(profile),
                "brand": r.brand,
                "platform": r.platform,
                "platform_user_id": r.platform_user_id,
                "handle": r.handle,
                "display_name": r.display_name,
            }
            for r in rows
        ]

    async def linked_open_tickets(
        self, customer_ids: Collection[uuid.UUID], *, since: datetime
    ) -> dict[uuid.UUID, LinkedTicket]:
        """For each customer in a profile, the most recent ticket of another member with a
        message since ``since``."""
        if not customer_ids:
            return {}
        other = aliased(customers)
        rows = await self._uow.conn.execute(
            select(customers.c.id, conversations.c.ticket_id, conversations.c.ticket_opened_at)
            # Every member of a profile, its anchor included, carries the profile id, so an
            # equality join on the indexed column finds the others.
            .join(other, (other.c.profile_id == customers.c.profile_id) & (other.c.id != customers.c.id))
            .join(conversations, conversations.c.customer_id == other.c.id)
            .where(
                customers.c.id.in_(list(customer_ids)),
                customers.c.profile_id.is_not(None),
                conversations.c.last_message_at >= since,
            )
            .order_by(conversations.c.last_message_at.desc())
        )
        out: dict[uuid.UUID, LinkedTicket] = {}
        for r in rows:
            out.setdefault(r.id, LinkedTicket(r.ticket_id, r.ticket_opened_at))
        return out


async def same_phone_links(
    uow: UnitOfWork, customer_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(customer, profile to join) for customers of ``customer_ids`` whose phone number
    another customer of the same brand has, in another profile."""
    if not customer_ids:
        return []
    other = aliased(customers)
    mine = func.coalesce(customers.c.profile_id, customers.c.id)
    theirs = func.coalesce(other.c.profile_id, other.c.id)
    rows = await uow.conn.execute(
        select(customers.c.id, theirs.label("profile"))
        .join(
            other,
            (other.c.brand == customers.c.brand)
            & (other.c.phone == customers.c.phone)
            & (other.c.id != customers.c.id),
        )
        .where(customers.c.id.in_(list(customer_ids)), customers.c.phone.is_not(None), mine != theirs)
        .order_by(other.c.first_seen_at)
    )
    out: dict[uuid.UUID, uuid.UUID] = {}
    for r in rows:
        out.setdefault(r.id, r.profile)
    return list(out.items())
