"""The desk's sign-in sessions (``desk_sessions``): opened at sign-in, looked up by the hash of
the browser's secret on every page and API use, touched at most about once a minute,
revoked at sign-out, pruned once ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from socialdesk_assigner.tables import desk_sessions
from socialdesk_runtime.db import UnitOfWork

__all__ = ["SessionRow", "SessionStore"]


@dataclass(frozen=True)
class SessionRow:
    agent_id: str
    token_binding: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None


class SessionStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def open(
        self, *, secret_hash: str, agent_id: str, token_binding: str, now: datetime, expires_at: datetime
    ) -> None:
        await self._uow.conn.execute(
            insert(desk_sessions).values(
                secret_hash=secret_hash,
                agent_id=agent_id,
                token_binding=token_binding,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
            )
        )

    async def find(self, secret_hash: str) -> SessionRow | None:
        c = desk_sessions.c
        row = (
            await self._uow.conn.execute(
                select(c.agent_id, c.token_binding, c.created_at, c.last_seen_at, c.revoked_at).where(
                    c.secret_hash == secret_hash
                )
            )
        ).first()
        return None if row is None else SessionRow(**row._mapping)

    async def touch(self, secret_hash: str, *, now: datetime, expires_at: datetime) -> None:
        """Its last use, unless it was revoked meanwhile (a sign-out is never undone)."""
        c = desk_sessions.c
        await self._uow.conn.execute(
            update(desk_sessions)
            .where(c.secret_hash == secret_hash, c.revoked_at.is_(None), c.last_seen_at < now)
            .values(last_seen_at=now, expires_at=expires_at)
        )

    async def revoke(self, secret_hash: str, *, now: datetime) -> str | None:
        """Ends one session; returns whose it was (``None``: unknown or already ended)."""
        c = desk_sessions.c
        row = (
            await self._uow.conn.execute(
                update(desk_sessions)
                .where(c.secret_hash == secret_hash, c.revoked_at.is_(None))
                .values(revoked_at=now)
                .returning(c.agent_id)
            )
        ).first()
        return None if row is None else str(row.agent_id)

    async def revoke_agent(self, agent_id: str, *, now: datetime) -> int:
        """Ends every session of ``agent_id`` (signing out everywhere), expired ones too (a
        longer ``desk.sessions`` would otherwise revive them); returns how many were still
        running."""
        c = desk_sessions.c
        done = await self._uow.conn.execute(
            update(desk_sessions)
            .where(c.agent_id == agent_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(c.expires_at)
        )
        return sum(1 for row in done if row.expires_at > now)

    async def prune(self, *, now: datetime) -> int:
        """Forgets sessions ended by time (a revoked one is kept until then, so a replayed
        copy of its cookie is counted as signed out rather than unknown)."""
        done = await self._uow.conn.execute(delete(desk_sessions).where(desk_sessions.c.expires_at <= now))
        return int(done.rowcount or 0)
