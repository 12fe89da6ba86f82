"""Handler tables of several concerns of one service combine into one."""

from __future__ import annotations

import asyncio
from typing import Any

from socialdesk_runtime.consumer import Batch, combine

from .events import received


class _Uow:
    pass


def test_a_type_in_one_table_keeps_its_handler() -> None:
    async def one(event: Any, uow: Any) -> None:
        return None

    table = combine({type(received()): one}, {})
    assert table[type(received())] is one


def test_a_type_in_two_tables_runs_both_concerns_in_order() -> None:
    calls: list[tuple[str, int]] = []

    async def single(event: Any, uow: Any) -> None:
        calls.append(("single", 1))

    async def batch(events: list[Any], uow: Any) -> None:
        calls.append(("batch", len(events)))

    event_type = type(received())
    table = combine({event_type: single}, {event_type: Batch(batch)})
    handler = table[event_type]
    assert isinstance(handler, Batch)
    asyncio.run(handler.fn([received(), received()], _Uow()))  # type: ignore[arg-type]
    assert calls == [("single", 1), ("single", 1), ("batch", 2)]
