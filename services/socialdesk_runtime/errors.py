"""Which failures are worth retrying, and which are poison."""

from __future__ import annotations

import asyncio
import errno
import socket

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

__all__ = ["TransientError", "is_transient"]


class TransientError(Exception):
    """Raise from a handler to say: this will probably work later; retry, do not dead-letter."""


# SQLSTATE classes and codes that say "try again later", not "this event is bad":
# connection exceptions (08), insufficient resources (53), operator intervention (57P0x),
# serialization failure, deadlock, lock not available, statement timeout.
_TRANSIENT_CLASSES = ("08", "53", "57P0")
_TRANSIENT_STATES = frozenset({"40001", "40P01", "55P03", "57014"})

# OSErrors that say "the network or the peer is away", not "this event is bad". Any other
# OSError (a missing file, a permission) would fail the same way on every retry, so it is
# poison: retrying it would block the partition for ever.
_TRANSIENT_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)


def _sqlstate(exc: DBAPIError) -> str | None:
    """The PostgreSQL error code behind SQLAlchemy's and asyncpg's wrappers."""
    seen: set[int] = set()
    cur: BaseException | None = exc.orig
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        state = getattr(cur, "sqlstate", None) or getattr(cur, "pgcode", None)
        if isinstance(state, str):
            return state
        cur = cur.__cause__ or cur.__context__
    return None


def is_transient(exc: BaseException) -> bool:
    """True for errors of infrastructure (database or broker away, timeouts), not of the event.

    A transient error retries the whole batch with backoff and never dead-letters an event;
    anything else raised by a handler marks that one event as poison.
    """
    if isinstance(exc, TransientError | OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, KafkaConnectionError | KafkaTimeoutError):
        return True
    if isinstance(exc, KafkaError) and getattr(exc, "retriable", False):
        return True
    if isinstance(exc, DBAPIError):
        state = _sqlstate(exc)
        if state is not None:
            return state.startswith(_TRANSIENT_CLASSES) or state in _TRANSIENT_STATES
    if isinstance(exc, ConnectionError | TimeoutError | asyncio.TimeoutError | socket.gaierror):
        return True
    return isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS
