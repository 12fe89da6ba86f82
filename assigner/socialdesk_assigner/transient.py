"""A moment without the desk's database: what it refused is tried again at once (a deadlock,
a serialization failure, a connection lost), and when it keeps refusing the desk answers
503 with ``Retry-After``, never a bare 500.

Usage::

    try:
        return await retried(lambda: work_once())
    except Exception as exc:
        if not is_transient(exc):
            raise
        raise unavailable() from None
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import HTTPException

from socialdesk_runtime.errors import is_transient

__all__ = ["RETRY_AFTER", "UNAVAILABLE", "retried", "unavailable"]

T = TypeVar("T")
_ATTEMPTS = 3
RETRY_AFTER = {"Retry-After": "2"}
UNAVAILABLE = "the desk's database is busy or away; retry shortly"


async def retried(work: Callable[[], Awaitable[T]], *, attempts: int = _ATTEMPTS) -> T:
    """``work()``, again after 50 and 100 ms while it fails for a transient reason; any
    other failure, or the last one, is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            await asyncio.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def unavailable() -> HTTPException:
    return HTTPException(status_code=503, detail=UNAVAILABLE, headers=RETRY_AFTER)
