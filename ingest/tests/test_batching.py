"""Group commit: concurrent submits share a store call; one bad item fails alone."""

from __future__ import annotations

import asyncio

import pytest

from socialdesk_ingest.batching import IntakeBatcher, IntakeOverloaded


class Store:
    """Doubles each item; refuses the ones named ``bad``; can be held at the door."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, items: list[str]) -> list[str]:
        self.calls.append(items)
        self.entered.set()
        await self.release.wait()
        if "bad" in items:
            raise ValueError("bad item")
        return [item * 2 for item in items]


async def test_concurrent_submits_share_one_call_and_get_their_own_answer() -> None:
    store = Store()
    batcher = IntakeBatcher(store)
    answers = await asyncio.gather(*(batcher.submit(x) for x in "abc"))
    assert answers == ["aa", "bb", "cc"]
    assert store.calls == [["a", "b", "c"]]


async def test_items_arriving_during_a_call_go_together_into_the_next() -> None:
    store = Store()
    store.release.clear()
    batcher = IntakeBatcher(store)
    first = asyncio.ensure_future(batcher.submit("a"))
    await store.entered.wait()
    later = [asyncio.ensure_future(batcher.submit(x)) for x in "bcd"]
    store.release.set()
    assert await asyncio.gather(first, *later) == ["aa", "bb", "cc", "dd"]
    assert store.calls == [["a"], ["b", "c", "d"]]


async def test_batches_are_capped() -> None:
    store = Store()
    batcher = IntakeBatcher(store, max_batch=2)
    assert await asyncio.gather(*(batcher.submit(x) for x in "abcde")) == ["aa", "bb", "cc", "dd", "ee"]
    assert store.calls == [["a", "b"], ["c", "d"], ["e"]]


async def test_a_failed_batch_is_retried_item_by_item_so_only_the_bad_one_fails() -> None:
    store = Store()
    batcher = IntakeBatcher(store)
    answers = await asyncio.gather(*(batcher.submit(x) for x in ["a", "bad", "c"]), return_exceptions=True)
    assert answers[0] == "aa" and answers[2] == "cc"
    assert isinstance(answers[1], ValueError)
    assert store.calls == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


async def test_a_caller_that_goes_away_does_not_cancel_the_others_batch() -> None:
    store = Store()
    store.release.clear()
    batcher = IntakeBatcher(store)
    leaving, staying = (asyncio.ensure_future(batcher.submit(x)) for x in "ab")
    await store.entered.wait()
    leaving.cancel()
    store.release.set()
    assert await staying == "bb"
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert store.calls == [["a", "b"]]


class DatabaseAway(Exception):
    pass


async def test_a_failure_that_is_not_the_items_fails_the_batch_whole_in_one_call() -> None:
    calls: list[list[str]] = []

    async def away(items: list[str]) -> list[str]:
        calls.append(items)
        raise DatabaseAway("connection refused")

    batcher = IntakeBatcher(away, fails_whole=lambda exc: isinstance(exc, DatabaseAway))
    results = await asyncio.gather(*(batcher.submit(x) for x in "abcd"), return_exceptions=True)
    assert all(isinstance(r, DatabaseAway) for r in results)
    assert calls == [["a", "b", "c", "d"]]  # not retried one by one


async def test_a_full_queue_refuses_at_once() -> None:
    store = Store()
    store.release.clear()
    batcher = IntakeBatcher(store, max_waiting=2)
    first = asyncio.ensure_future(batcher.submit("a"))
    await store.entered.wait()
    waiting = [asyncio.ensure_future(batcher.submit(x)) for x in "bc"]
    await asyncio.sleep(0)
    with pytest.raises(IntakeOverloaded):
        await batcher.submit("d")
    store.release.set()
    assert await asyncio.gather(first, *waiting) == ["aa", "bb", "cc"]


async def test_with_room_for_two_a_second_batch_is_stored_while_the_first_waits() -> None:
    store = Store()
    store.release.clear()
    batcher = IntakeBatcher(store, max_concurrent=2)
    first = asyncio.ensure_future(batcher.submit("a"))
    await store.entered.wait()
    store.entered.clear()
    second = asyncio.ensure_future(batcher.submit("b"))
    await store.entered.wait()  # entered again while the first is still held
    third = asyncio.ensure_future(batcher.submit("c"))  # no room: waits for a batch to end
    await asyncio.sleep(0)
    assert store.calls == [["a"], ["b"]]
    store.release.set()
    assert await asyncio.gather(first, second, third) == ["aa", "bb", "cc"]
    assert store.calls == [["a"], ["b"], ["c"]]
