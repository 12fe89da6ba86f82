"""Who a Graph read may make a message's author, and what waits on the read, through
ingest's real bootstrap on real PostgreSQL against the Meta fake (decision 0204 addendum):
a username alone makes no one a known person, our own account is never a customer, the
enrichment worker holds no lock while Graph answers, and two reads racing to name the same
person link the two placeholders."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from socialdesk_ingest.domain import IncomingAuthor
from socialdesk_ingest.enrichment_worker import EnrichmentWorker
from socialdesk_ingest.handlers import identify_author
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import MessageReceived
from socialdesk_schemas.platforms import (
    CustomerLinked,
    MessageAuthorIdentified,
    MessageEdited,
    OwnMessageSeen,
)
from tests.fakes._http import Reply, Request
from tests.fakes.meta import FakeMeta
from tests.integration.test_ingest_customers import ANA
from tests.integration.test_ingest_enrichment import (
    DANA,
    IG,
    PAGE,
    change,
    dana_wrote,
    deliver,
    graph_back,
    meta,
    svc,
    while_graph_is_down,
    withheld,
)
from tests.support import Booted, uid

pytestmark = pytest.mark.integration

__all__ = ["meta", "svc"]  # the fixtures


def enrichment_of(service: Booted) -> EnrichmentWorker:
    (worker,) = (w for w in service.parts.workers if isinstance(w, EnrichmentWorker))
    return worker


async def identities(service: Booted, customer_id: uuid.UUID) -> list[tuple[str, str | None]]:
    """The customer's profile in ingest: (platform user id, handle) of each identity."""
    answer = await service.client.get(f"/v1/customers/{customer_id}", headers=ANA)
    assert answer.status_code == 200, answer.text
    return [(c["platform_user_id"], c["handle"]) for c in answer.json()["identities"]]


# --- a username alone (Instagram's mentioned_media) -----------------------------------------


async def test_a_username_read_at_extraction_names_the_mention_and_merges_no_one(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    """Two stories mentioning us by the same username: two customers, each its message's own,
    shown with the handle. Usernames change and are reused: they identify no one."""
    service, _ = svc
    received = []
    for media in (uid(), uid()):
        meta.add_ig_mention(media, text="look @ourbus", username="maple_fan", user_id=None, media=True)
        (event,) = await deliver(service, change(IG, "mentions", {"media_id": media}))
        assert isinstance(event, MessageReceived)
        assert (event.author.platform_user_id, event.author.handle) == (f"unknown:{media}", "maple_fan")
        received.append(event)
    assert received[0].customer_id != received[1].customer_id


async def test_a_username_read_later_names_the_placeholder_and_links_no_one(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    """maple_fan is a known customer by id; two mentions by that username, read late: the
    placeholders take the handle, keep their ids, and nobody is renamed or linked."""
    service, clock = svc
    known_value = {
        "id": uid(),
        "from": {"id": "1133", "username": "maple_fan"},
        "text": "hi",
        "media": {"id": "9"},
    }
    (known,) = await deliver(service, change(IG, "comments", known_value))
    assert isinstance(known, MessageReceived)
    mentions = [uid(), uid()]
    meta.down_for(3600)
    late = [await deliver(service, change(IG, "mentions", {"media_id": m})) for m in mentions]
    for media in mentions:
        meta.add_ig_mention(media, text="look @ourbus", username="maple_fan", user_id=None, media=True)
    clock.advance(seconds=1)
    meta.clear_faults()
    clock.advance(seconds=31)
    assert await enrichment_of(service).run_once() == 2
    events = await service.emitted()
    assert not [e for e in events if isinstance(e, CustomerLinked)]
    named = [e for e in events if isinstance(e, MessageAuthorIdentified)]
    assert [(e.author.platform_user_id, e.author.handle, e.customer_platform_user_id) for e in named] == [
        (f"unknown:{m}", "maple_fan", f"unknown:{m}") for m in mentions
    ]
    for media, (event,) in zip(mentions, late, strict=True):
        assert isinstance(event, MessageReceived)
        assert await identities(service, event.customer_id) == [(f"unknown:{media}", "maple_fan")]
    assert await identities(service, known.customer_id) == [("1133", "maple_fan")]


# --- our own account, named by the read -------------------------------------------------------


def pages_withheld_answer(comment_id: str, parent: str) -> dict[str, Any]:
    """The Page's comment answering ``parent``, delivered without ``from``."""
    value = {
        "item": "comment",
        "verb": "add",
        "post_id": f"{PAGE}_880011",
        "comment_id": comment_id,
        "parent_id": parent,
        "created_time": 1767258200,
        "message": "On it, Dana",
    }
    return change(PAGE, "feed", value)


async def test_a_comment_read_as_the_pages_own_at_extraction_is_ours_not_a_customers(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    service, _ = svc
    (asked,) = await deliver(service, dana_wrote(f"880011_{uid()}", "where is my bus"))
    assert isinstance(asked, MessageReceived)
    ours = f"880011_{uid()}"
    meta.add_post(ours, message="On it, Dana", author_id=PAGE, author_name="OurBus")
    (seen,) = await deliver(service, pages_withheld_answer(ours, asked.platform_message_id))
    assert isinstance(seen, OwnMessageSeen) and seen.ticket_id == asked.ticket_id
    assert (seen.platform_message_id, seen.text, seen.typed_in_platform_inbox) == (ours, "On it, Dana", True)


async def test_a_late_read_naming_the_page_makes_the_page_no_customer(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    """Ticketed already (Graph was down), it stays as it was: no rename, no author told."""
    service, clock = svc
    ours = f"880011_{uid()}"
    meta.down_for(3600)
    (received,) = await deliver(service, pages_withheld_answer(ours, f"880011_{uid()}"))
    assert isinstance(received, MessageReceived)
    meta.add_post(ours, message="On it, Dana", author_id=PAGE, author_name="OurBus")
    assert await graph_back(service, clock, meta) == []
    assert await identities(service, received.customer_id) == [(f"unknown:{ours}", None)]


# --- nothing waits on a Graph read ------------------------------------------------------------


async def test_a_new_message_of_the_person_and_an_edit_do_not_wait_on_the_enrichments_reads(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    """Two withheld comments wait for their read (Dana's first, Lee's second). While Graph
    holds the second read, Dana writes again and edits the first: extracted at once. Then
    the first placeholder is linked to Dana (she became a customer meanwhile), the edit,
    newer than the read, stays, and each author is told once."""
    service, clock = svc
    dana_first, lee = f"880011_{uid()}", f"880011_{uid()}"
    first = await while_graph_is_down(service, meta, dana_first)
    clock.advance(seconds=1)
    (second,) = await deliver(service, withheld(lee, text="where is it"))
    meta.clear_faults()
    arrived, gate = threading.Event(), threading.Event()

    def held(request: Request) -> bool:
        if lee not in request.path:
            return False
        arrived.set()
        gate.wait(10)
        return True

    answer = {"id": lee, "message": "where is it", "from": {"id": "4400112233", "name": "Lee Park"}}
    meta.answer_next(1, Reply(200, answer), matches=held)
    clock.advance(seconds=60)
    reading = asyncio.create_task(enrichment_of(service).run_once())
    edit = {"item": "comment", "verb": "edited", "comment_id": dana_first, "message": "bus never came!!"}
    both = dana_wrote(f"880011_{uid()}", "still nothing")
    both["entry"][0]["changes"].append({"field": "feed", "value": {**edit, "created_time": 1767258300}})
    try:
        assert await asyncio.to_thread(arrived.wait, 5), "the second read never reached Graph"
        during = await asyncio.wait_for(deliver(service, both), timeout=2.0)
    finally:
        gate.set()
    assert await reading == 2
    dana_again, edited = during
    assert isinstance(dana_again, MessageReceived) and isinstance(edited, MessageEdited)
    assert edited.message_id == first.message_id and edited.text == "bus never came!!"
    linked, dana_named, lee_named = await service.emitted()
    assert isinstance(linked, CustomerLinked)
    assert set(linked.customer_ids) == {first.customer_id, dana_again.customer_id}
    assert isinstance(dana_named, MessageAuthorIdentified) and dana_named.message_id == first.message_id
    assert isinstance(lee_named, MessageAuthorIdentified) and lee_named.message_id == second.message_id
    assert lee_named.customer_platform_user_id == "4400112233"


# --- two reads racing to name the same person -------------------------------------------------


async def test_two_placeholders_named_as_the_same_new_person_at_once_are_linked(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    """Two transactions name two placeholders as Dana, whom nobody knew: the first renames
    its placeholder; the second, which saw no Dana yet, hits her id taken when the first
    commits (its savepoint rolls back) and links its placeholder to hers instead."""
    service, _ = svc
    a = await while_graph_is_down(service, meta, f"880011_{uid()}")
    b = await while_graph_is_down(service, meta, f"880011_{uid()}")
    dana = IncomingAuthor(DANA, display_name="Dana Ruiz")
    now = service.runtime.clock.now()

    async def name(customer_id: uuid.UUID, named: asyncio.Event, commit: asyncio.Event) -> bool:
        async with service.uow_factory() as uow:
            linked = await identify_author(
                uow, customer_id, dana, brand=a.brand, platform="facebook", now=now
            )
            named.set()
            await commit.wait()
            await uow.commit()
        return linked

    first_named, second_named, go = asyncio.Event(), asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(name(a.customer_id, first_named, go))
    await asyncio.wait_for(first_named.wait(), 5)
    second = asyncio.create_task(name(b.customer_id, second_named, go))
    await _until_a_transaction_waits_for_a_lock(service)  # the second's rename, on the first's
    assert not second_named.is_set()
    go.set()
    assert await first is False and await second is True
    (linked,) = await service.emitted()
    assert isinstance(linked, CustomerLinked) and linked.linked_by == "rule:enrichment"
    assert set(linked.customer_ids) == {a.customer_id, b.customer_id}
    assert await identities(service, b.customer_id) == [
        (DANA, None),
        (f"unknown:{b.platform_message_id}", None),
    ]


async def _until_a_transaction_waits_for_a_lock(service: Booted) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    for _ in range(100):
        async with service.engine.connect() as conn:
            if await conn.scalar(query):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("no transaction came to wait for a lock")
