"""ingest's repository over the unit of work: the only SQL of the service.

Written for batches: every method is one statement for any number of rows, in
executemany form (a list of parameter sets) so each statement is compiled once and cached.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_ingest.domain import (
    Conversation,
    ConversationKey,
    CustomerKey,
    IncomingAuthor,
    IncomingMessage,
    MessageKey,
    Placement,
    StoredMessage,
)
from socialdesk_ingest.domain.platforms.enrichment import retry_delay
from socialdesk_ingest.tables import conversations, customers, messages
from socialdesk_runtime.db import UnitOfWork

__all__ = ["ConcurrentDuplicate", "IngestStore"]


class ConcurrentDuplicate(Exception):
    """Another transaction stored one of these messages meanwhile: run the batch again."""


_customer_insert = pg_insert(customers)
# The newest profile wins; first_seen_at stays as it was.
_UPSERT_CUSTOMERS = _customer_insert.on_conflict_do_update(
    constraint="customers_identity_key",
    set_={
        "last_seen_at": _customer_insert.excluded.last_seen_at,
        "followers": _customer_insert.excluded.followers,
        "handle": _customer_insert.excluded.handle,
        "display_name": _customer_insert.excluded.display_name,
        "phone": func.coalesce(_customer_insert.excluded.phone, customers.c.phone),
    },
).returning(
    customers.c.id,
    customers.c.brand,
    customers.c.platform,
    customers.c.platform_user_id,
    customers.c.profile_id,
)

_INSERT_CONVERSATIONS = (
    pg_insert(conversations)
    .on_conflict_do_nothing(constraint="conversations_thread_key")
    .returning(conversations.c.brand, conversations.c.platform, conversations.c.thread_key)
)

_UPDATE_CONVERSATIONS = (
    update(conversations)
    .where(conversations.c.id == bindparam("cid"))
    .values(
        ticket_id=bindparam("b_ticket"),
        ticket_opened_at=bindparam("b_opened"),
        last_message_at=bindparam("b_last"),
    )
)

_INSERT_RAW_ARRAYS = (
    "INSERT INTO raw_deliveries (source, body, extracted_at)"
    " SELECT d.source, d.body, $3::timestamptz"
    " FROM unnest($1::varchar[], $2::bytea[]) WITH ORDINALITY AS d(source, body, n)"
    " ORDER BY d.n RETURNING id"
)


def _keys_table(name: str, *columns: str) -> Any:
    """(brand, platform, x) keys as a table of text arrays (``unnest``) to join: one
    statement text whatever the number of keys, and a join PostgreSQL answers with a
    lookup of the unique index per key (or, before its first ANALYZE, one hash join). A
    row-value ``IN`` list of N keys is a new statement for every N, filtered by an OR of
    N conjunctions per row: O(rows x N) while the table's statistics are young."""
    arrays = [bindparam(f"{name}_{c}", type_=ARRAY(String)) for c in columns]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)


_WANTED_CONVERSATIONS = _keys_table("wanted_conversations", "brand", "platform", "thread_key")
_LOCK_CONVERSATIONS = (
    select(conversations)
    .join(
        _WANTED_CONVERSATIONS,
        and_(
            conversations.c.brand == _WANTED_CONVERSATIONS.c.brand,
            conversations.c.platform == _WANTED_CONVERSATIONS.c.platform,
            conversations.c.thread_key == _WANTED_CONVERSATIONS.c.thread_key,
        ),
    )
    .order_by(conversations.c.id)
    .with_for_update(of=conversations)
)


def _key_arrays(
    name: str, columns: tuple[str, str, str], keys: Collection[tuple[str, str, str]]
) -> dict[str, list[str]]:
    """The parameters of a :func:`_keys_table`: one list per column (keys given once each)."""
    unique = list(dict.fromkeys(keys))
    return {f"{name}_{c}": [k[i] for k in unique] for i, c in enumerate(columns)}


_INSERT_MESSAGES = (
    pg_insert(messages).on_conflict_do_nothing(constraint="messages_platform_id_key").returning(messages.c.id)
)


class IngestStore:
    """Messages, customers, conversations and raw deliveries, in one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        #: The customers of the last :meth:`upsert_customers` that belong to a profile.
        self.in_profiles: set[uuid.UUID] = set()

    async def stored_messages(self, keys: Collection[MessageKey]) -> dict[MessageKey, StoredMessage]:
        """The messages among ``keys`` that are already stored."""
        rows = await self._uow.conn.execute(
            select(
                messages.c.id,
                messages.c.ticket_id,
                messages.c.brand,
                messages.c.platform,
                messages.c.platform_message_id,
            ).where(
                tuple_(messages.c.brand, messages.c.platform, messages.c.platform_message_id).in_(list(keys))
            )
        )
        return {(r.brand, r.platform, r.platform_message_id): StoredMessage(r.id, r.ticket_id) for r in rows}

    async def upsert_customers(
        self, profiles: Mapping[CustomerKey, IncomingAuthor], *, seen_at: datetime
    ) -> dict[CustomerKey, uuid.UUID]:
        """Create the customers not known yet, refresh the others' profiles; their ids.

        Afterwards :attr:`in_profiles` holds those of them that belong to a linked profile."""
        rows = await self._uow.conn.execute(
            _UPSERT_CUSTOMERS,
            [
                {
                    "id": uuid.uuid4(),
                    "brand": brand,
                    "platform": platform,
                    "platform_user_id": user_id,
                    "handle": author.handle,
                    "display_name": author.display_name,
                    "followers": author.followers,
                    "phone": author.phone,
                    "first_seen_at": seen_at,
                    "last_seen_at": seen_at,
                }
                for (brand, platform, user_id), author in profiles.items()
            ],
        )
        out: dict[CustomerKey, uuid.UUID] = {}
        self.in_profiles = set()
        for r in rows:
            out[(r.brand, r.platform, r.platform_user_id)] = r.id
            if r.profile_id is not None:
                self.in_profiles.add(r.id)
        return out

    async def create_conversations(self, new: Iterable[Conversation]) -> set[ConversationKey]:
        """Insert the conversations that do not exist yet; the keys of those inserted."""
        rows = await self._uow.conn.execute(_INSERT_CONVERSATIONS, [_conversation_row(c) for c in new])
        return {(r.brand, r.platform, r.thread_key) for r in rows}

    async def lock_conversations(
        self, keys: Collection[ConversationKey]
    ) -> dict[ConversationKey, Conversation]:
        """Load and lock conversations for this transaction.

        Locked in id order, so two replicas locking overlapping sets cannot deadlock, and
        the messages of one thread serialise here.
        """
        rows = await self._uow.conn.execute(
            _LOCK_CONVERSATIONS,
            _key_arrays("wanted_conversations", ("brand", "platform", "thread_key"), keys),
        )
        out: dict[ConversationKey, Conversation] = {}
        for r in rows:
            key = (r.brand, r.platform, r.thread_key)
            out[key] = Conversation(
                key=key,
                id=r.id,
                customer_id=r.customer_id,
                ticket_id=r.ticket_id,
                ticket_opened_at=r.ticket_opened_at,
                last_message_at=r.last_message_at,
            )
        return out

    async def save_conversations(self, changed: Sequence[Conversation]) -> None:
        """Write back conversations' current ticket and last message time."""
        if not changed:
            return
        await self._uow.conn.execute(
            _UPDATE_CONVERSATIONS,
            [
                {
                    "cid": c.id,
                    "b_ticket": c.ticket_id,
                    "b_opened": c.ticket_opened_at,
                    "b_last": c.last_message_at,
                }
                for c in changed
            ],
        )

    async def add_raw_deliveries(
        self, deliveries: Sequence[tuple[str, bytes]], *, extracted_at: datetime | None
    ) -> list[int]:
        """Keep (source, body) pairs as they arrived, for audit and replay; their ids in order.

        ``extracted_at=None`` leaves them to the extraction worker (platform webhooks).
        """
        if not deliveries:
            return []
        # The acknowledgement's one statement, straight on the driver: one INSERT of the
        # whole batch from two arrays (no per-batch statement rendering by SQLAlchemy's
        # executemany). Identity values are drawn in the SELECT's order, so the ids sorted
        # are the deliveries' ids in order.
        raw = await self._uow.conn.get_raw_connection()
        driver: Any = raw.driver_connection
        rows = await driver.fetch(
            _INSERT_RAW_ARRAYS,
            [source for source, _ in deliveries],
            [body for _, body in deliveries],
            extracted_at,
        )
        return sorted(r["id"] for r in rows)

    @staticmethod
    async def keep_raw_deliveries(engine: AsyncEngine, deliveries: Sequence[tuple[str, bytes]]) -> list[int]:
        """Keep webhook deliveries for the extraction worker, committed when this returns;
        their ids in order.

        The acknowledgement's hot path: its one INSERT is its own transaction (autocommit,
        atomic as any single statement), so one round trip instead of BEGIN, INSERT and
        COMMIT, without a unit of work (it publishes nothing).
        """
        if not deliveries:
            return []
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            rows = await driver.fetch(
                _INSERT_RAW_ARRAYS,
                [source for source, _ in deliveries],
                [body for _, body in deliveries],
                None,
            )
        return sorted(r["id"] for r in rows)

    async def add_messages(
        self,
        placed: Sequence[tuple[IncomingMessage, Placement, int | None]],
        *,
        received_at: datetime,
        enrich: Collection[IncomingMessage] = (),
    ) -> None:
        """Insert (message, placement, raw delivery id) rows.

        Raises :class:`ConcurrentDuplicate` if another transaction stored one of them since
        :meth:`stored_messages` looked (the caller rolls back and retries).
        """
        rows = [
            {
                "id": p.message_id,
                "brand": m.brand,
                "platform": m.platform,
                "kind": m.kind,
                "platform_message_id": m.platform_message_id,
                "conversation_id": p.conversation_id,
                "ticket_id": p.ticket_id,
                "customer_id": p.customer_id,
                "text": m.text,
                "received_at": received_at,
                "sent_at": m.sent_at,
                "raw_delivery_id": raw_id,
                "attachments": [list(a) for a in m.attachments] or None,
                "needs_enrichment": m in enrich,
                "in_reply_to": m.in_reply_to,
                "enrich_attempts": 1 if m in enrich else 0,
                "next_enrich_at": received_at + timedelta(seconds=retry_delay(1)) if m in enrich else None,
            }
            for m, p, raw_id in placed
        ]
        inserted = (await self._uow.conn.execute(_INSERT_MESSAGES, rows)).all()
        if len(inserted) != len(rows):
            raise ConcurrentDuplicate(
                f"{len(rows) - len(inserted)} message(s) stored meanwhile by another transaction"
            )


def _conversation_row(c: Conversation) -> dict[str, object]:
    brand, platform, thread_key = c.key
    return {
        "id": c.id,
        "brand": brand,
        "platform": platform,
        "thread_key": thread_key,
        "customer_id": c.customer_id,
        "ticket_id": c.ticket_id,
        "ticket_opened_at": c.ticket_opened_at,
        "last_message_at": c.last_message_at,
    }
