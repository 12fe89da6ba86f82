"""The replies' side of the desk's read model: delivery states the notifier reports (and
echoes bring), and which of our replies a message of our account coming back may be."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, case, func, select, update

from socialdesk_assigner.domain.inbox import OurReply
from socialdesk_assigner.tables import replies
from socialdesk_runtime.db import UnitOfWork

__all__ = ["ReplyDeliveries"]

#: Reply states whose echo may come back with an id we do not know yet (never posted:
#: pending_approval, rejected, failed; "local" went to the notifier's local sink only).
_MAY_ECHO = ("requested", "sent", "delivered", "read")
#: A reply's delivery state only moves forward (a late "sent" never hides "read").
#: "local": the notifier had no platform credentials and wrote it to its local sink only.
_STATUS_RANK = {
    "pending_approval": 0,
    "requested": 1,
    "local": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
    "failed": 6,
}


class ReplyDeliveries:
    """Part of :class:`~socialdesk_assigner.store.readmodel.ReadModelStore`."""

    _uow: UnitOfWork

    # -- replies' delivery --

    async def reply_status(self, rows: Sequence[dict[str, Any]]) -> None:
        """Move replies forward: ``b_reply_id``, ``b_status``, ``b_at``, ``b_pmid``, ``b_reason``."""
        if not rows:
            return
        current = case(_STATUS_RANK, value=replies.c.status, else_=0)
        await self._uow.conn.execute(
            update(replies)
            .where(
                replies.c.reply_id == bindparam("b_reply_id"),
                current < bindparam("b_rank"),
            )
            .values(
                status=bindparam("b_status"),
                status_at=bindparam("b_at"),
                platform_message_id=func.coalesce(bindparam("b_pmid"), replies.c.platform_message_id),
                failure_reason=func.coalesce(bindparam("b_reason"), replies.c.failure_reason),
            ),
            [{**r, "b_rank": _STATUS_RANK[r["b_status"]]} for r in rows],
        )
        # The platform's id is learnt whatever the state reached (an X duplicate refused: sent
        # with no id, which its echo brings; a receipt read before the report that names it).
        named = [{"b_reply_id": r["b_reply_id"], "b_pmid": r["b_pmid"]} for r in rows if r["b_pmid"]]
        if named:
            await self._uow.conn.execute(
                update(replies)
                .where(replies.c.reply_id == bindparam("b_reply_id"), replies.c.platform_message_id.is_(None))
                .values(platform_message_id=bindparam("b_pmid")),
                named,
            )

    async def replies_an_echo_may_be(self, ticket_id: uuid.UUID, platform_message_id: str) -> list[OurReply]:
        """Our replies on ``ticket_id`` that a message of our account coming back may be the
        echo of: the one posted with ``platform_message_id`` (whatever its state or age), and
        those whose platform id we do not know yet, newest first (the domain's ``echo_of``
        decides by their state, time and words)."""
        rows = await self._uow.conn.execute(
            select(
                replies.c.reply_id,
                replies.c.text,
                replies.c.status,
                replies.c.created_at,
                replies.c.status_at,
                replies.c.platform_message_id,
            )
            .where(
                replies.c.ticket_id == ticket_id,
                (replies.c.platform_message_id == platform_message_id)
                | (replies.c.platform_message_id.is_(None) & replies.c.status.in_(_MAY_ECHO)),
            )
            .order_by(replies.c.created_at.desc())
            .limit(50)
        )
        return [OurReply(**r._mapping) for r in rows]

    async def survey_of(
        self, ticket_id: uuid.UUID, template_key: str, default_text: str
    ) -> dict[str, Any] | None:
        """The feedback survey asked on ``ticket_id`` (by its saved reply, or the default
        text) and not failed or refused, if any: its reply id and status."""
        row = (
            await self._uow.conn.execute(
                select(replies.c.reply_id, replies.c.status)
                .where(
                    replies.c.ticket_id == ticket_id,
                    (replies.c.template_key == template_key) | (replies.c.text == default_text),
                    replies.c.status.not_in(("rejected", "failed")),
                )
                .order_by(replies.c.created_at)
                .limit(1)
            )
        ).one_or_none()
        return None if row is None else dict(row._mapping)

    async def reply_status_by_request(self, rows: Sequence[dict[str, Any]]) -> None:
        """Move the replies ``ReplyRequested`` events asked for (matched by their event id):
        ``b_request``, ``b_status``, ``b_at``, ``b_reason``."""
        if not rows:
            return
        current = case(_STATUS_RANK, value=replies.c.status, else_=0)
        await self._uow.conn.execute(
            update(replies)
            .where(replies.c.request_event_id == bindparam("b_request"), current < bindparam("b_rank"))
            .values(
                status=bindparam("b_status"),
                status_at=bindparam("b_at"),
                failure_reason=func.coalesce(bindparam("b_reason"), replies.c.failure_reason),
            ),
            [{**r, "b_rank": _STATUS_RANK[r["b_status"]]} for r in rows],
        )
