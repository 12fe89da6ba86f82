"""Which failures are worth retrying, and which are poison."""

from __future__ import annotations

import asyncio
import socket

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

__all__ = ["TransientError", "is_transient"]


class TransientError(Exception):
    """Raise from a handler to say: this will probably work later; retry, do not dead-letter."""


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
        # asyncpg's connection-level failures arrive wrapped in DBAPIError.
        orig = getattr(exc, "orig", None)
        name = type(orig).__name__ if orig is not None else ""
        return any(s in name for s in ("ConnectionDoesNotExist", "CannotConnectNow", "TooManyConnections"))
    return isinstance(exc, ConnectionError | TimeoutError | asyncio.TimeoutError | socket.gaierror | OSError)
