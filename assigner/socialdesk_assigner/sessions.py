"""Sign-ins to the desk's pages, kept by the desk (decision 0304).

Signing in with an agent token opens a session: the browser gets a random secret (in an
HttpOnly cookie, see ``api.cookie``), the desk keeps its hash in PostgreSQL, so every
replica accepts it and a sign-out anywhere ends it everywhere at once. A session ends when
it is signed out or replaced by a sign-in in the same browser, after the configured idle
time or lifetime (``desk.sessions``), or when the agent's token is changed or the agent
leaves the configuration. Ended sessions are pruned by the desk worker.

Usage::

    secret = await sessions.open(agent)            # at sign-in: the cookie's value
    agent = await sessions.agent_for(secret)       # on each use: None once ended
    await sessions.close(secret)                   # at sign-out
    await sessions.close_everywhere(secret)        # None: that session had ended already
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from socialdesk_assigner.domain.sessions import SessionLimits, refusal, secret_hash, token_binding
from socialdesk_assigner.metrics import AssignerMetrics
from socialdesk_assigner.presence import Roster
from socialdesk_assigner.store.sessions import SessionRow, SessionStore
from socialdesk_assigner.transient import retried
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import Agent
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.errors import is_transient

__all__ = ["DeskSessions", "SessionsUnavailable"]

T = TypeVar("T")

#: A secret longer than this is nothing the desk handed out (token_urlsafe(32) is 43).
_SECRET_MAX = 128


class SessionsUnavailable(Exception):
    """The database did not answer a session's lookup or change, even tried again."""


class DeskSessions:
    """The desk's sessions over its database, with today's configured limits."""

    def __init__(
        self, *, uow_factory: UnitOfWorkFactory, clock: Clock, roster: Roster, metrics: AssignerMetrics
    ) -> None:
        config = roster.config
        self._uow_factory = uow_factory
        self._clock = clock
        self._roster = roster
        self._metrics = metrics
        self.limits = SessionLimits(
            idle=timedelta(seconds=config.desk.sessions.idle_seconds),
            lifetime=timedelta(seconds=config.desk.sessions.lifetime_seconds),
        )
        #: The desk's origin as agents' browsers see it, when configured (``api.cookie``).
        self.public_url = config.desk.public_url
        # read from the environment once, as the bearer tokens are (api.common.agent_tokens)
        self._tokens = {a.id: config.secret(a.token_env) or "" for a in config.agents if a.token_env}

    async def open(self, agent: Agent, *, replacing: str = "") -> str:
        """A new session for ``agent`` (signed in with their token); returns its secret. The
        browser's previous session (``replacing``), if any, ends: one browser, one sign-in."""
        secret = secrets.token_urlsafe(32)
        now = self._clock.now()
        previous = replacing if replacing and len(replacing) <= _SECRET_MAX else ""

        async def once() -> bool:
            async with self._uow_factory() as uow:
                store = SessionStore(uow)
                replaced = bool(previous) and await store.revoke(secret_hash(previous), now=now) is not None
                await store.open(
                    secret_hash=secret_hash(secret),
                    agent_id=agent.id,
                    token_binding=token_binding(secret, self._tokens.get(agent.id, "")),
                    now=now,
                    expires_at=self.limits.expires_at(created_at=now, last_seen_at=now),
                )
                await uow.commit()
            return replaced

        if await self._db(once):
            self._metrics.desk_sessions.labels("replaced").inc()
        self._metrics.desk_sessions.labels("signed_in").inc()
        return secret

    async def agent_for(self, secret: str, *, use: bool = True, claimed: str | None = None) -> Agent | None:
        """The agent whose session ``secret`` opens, or ``None`` once it ended (counted by
        reason). A ``use`` (the agent opened a page or acted: not a page's own question in
        the background) keeps it from ending idle: written down about once a minute, and
        only when the page that asks was rendered for that agent (``claimed``: else the
        caller refuses it)."""
        agent, reason = await self._lookup(secret, touch=use, claimed=claimed)
        if agent is None:
            self.refused(reason)
        return agent

    async def close(self, secret: str) -> int:
        """Signs out: ends this session; returns how many ended (0: unknown or ended already)."""
        if not secret or len(secret) > _SECRET_MAX:
            return 0
        now = self._clock.now()

        async def once() -> int:
            async with self._uow_factory() as uow:
                ended = await SessionStore(uow).revoke(secret_hash(secret), now=now) is not None
                await uow.commit()
            return int(ended)

        ended = await self._db(once)
        self._metrics.desk_sessions.labels("signed_out").inc(ended)
        return ended

    async def close_everywhere(self, secret: str) -> int | None:
        """Signs out everywhere: ends every session of the agent whose session ``secret``
        opens and returns how many. ``None`` when that session had ended already: then
        nobody is known to sign out, nothing is ended (and no refusal is counted)."""
        agent, _ = await self._lookup(secret, touch=False, claimed=None)
        if agent is None:
            return None
        now = self._clock.now()

        async def once() -> int:
            async with self._uow_factory() as uow:
                ended = await SessionStore(uow).revoke_agent(agent.id, now=now)
                await uow.commit()
            return ended

        ended = await self._db(once)
        self._metrics.desk_sessions.labels("signed_out_everywhere").inc(ended)
        return ended

    async def _lookup(self, secret: str, *, touch: bool, claimed: str | None) -> tuple[Agent | None, str]:
        """The session's agent, or ``None`` with the reason it is refused; with ``touch``
        its last use is written down when due, unless a page of another agent asks."""
        if not secret or len(secret) > _SECRET_MAX:
            return None, "unknown"
        key = secret_hash(secret)
        now = self._clock.now()

        async def once() -> tuple[Agent | None, str]:
            async with self._uow_factory() as uow:
                store = SessionStore(uow)
                row = await store.find(key)
                agent, reason = self._judge(secret, row, now)
                if agent is None or row is None:
                    return None, reason
                mine = claimed is None or claimed == agent.id
                if touch and mine and self.limits.due_for_touch(last_seen_at=row.last_seen_at, now=now):
                    expires_at = self.limits.expires_at(created_at=row.created_at, last_seen_at=now)
                    await store.touch(key, now=now, expires_at=expires_at)
                    await uow.commit()
            return agent, ""

        return await self._db(once)

    @staticmethod
    async def _db(work: Callable[[], Awaitable[T]]) -> T:
        """``work`` on the database, tried again at once when it fails for a moment; still
        failing, :class:`SessionsUnavailable` (the desk answers 503, never a bare 500)."""
        try:
            return await retried(work)
        except Exception as exc:
            if is_transient(exc):
                raise SessionsUnavailable(str(exc)) from exc
            raise

    def refused(self, reason: str) -> None:
        """Counts a refused use of a session cookie (the reasons are the metric's)."""
        self._metrics.desk_session_refusals.labels(reason).inc()

    def _judge(self, secret: str, row: SessionRow | None, now: datetime) -> tuple[Agent | None, str]:
        if row is None:
            return None, "unknown"
        ended = refusal(
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            revoked_at=row.revoked_at,
            now=now,
            limits=self.limits,
        )
        if ended is not None:
            return None, ended
        agent = self._roster.known(row.agent_id)
        if agent is None:
            return None, "agent_unknown"
        token = self._tokens.get(agent.id, "")
        if not token or not hmac.compare_digest(token_binding(secret, token), row.token_binding):
            return None, "token_changed"
        return agent, ""
