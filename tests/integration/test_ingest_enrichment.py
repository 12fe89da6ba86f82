"""Id-only deliveries (Instagram mentions, Facebook post mentions) and comments whose author
Meta withheld are completed by a Graph API read against the Meta fake; when the read fails
the message is ticketed with what is known and completed later (``MessageEdited``): its
words, and its placeholder customer becomes the person the read names (decision 0204)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_ingest.domain.platforms import meta_signature
from socialdesk_ingest.enrichment_worker import EnrichmentWorker
from socialdesk_ingest.extraction_worker import ExtractionWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import Event, MessageReceived
from socialdesk_schemas.platforms import CustomerLinked, MessageAuthorIdentified, MessageEdited
from tests.fakes.meta import FakeMeta
from tests.integration.test_desk import page
from tests.integration.test_ingest_customers import ANA
from tests.integration.test_ingest_own_comments import desk, on_the_desk
from tests.support import TEST_ENV, Booted, booted, config_for_tests, uid

pytestmark = pytest.mark.integration

__all__ = ["desk"]  # the fixture, shared with the own-comment tests

PAGE, IG = "730011223344556", "17841400000000001"


@pytest.fixture
def meta() -> Iterator[FakeMeta]:
    with FakeMeta(token=TEST_ENV["TEST_META_TOKEN"], pages={PAGE}, ig_accounts={IG}) as fake:
        yield fake


@pytest.fixture
async def svc(fresh_db: str, meta: FakeMeta) -> AsyncIterator[tuple[Booted, FakeClock]]:
    config = config_for_tests()
    config = config.model_copy(
        update={"platforms": config.platforms.model_copy(update={"graph_base_url": meta.url})}
    )
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, config=config) as service:
        yield service, clock


async def deliver(svc: Booted, body: dict[str, Any]) -> list[Event]:
    raw = json.dumps(body).encode()
    sig = meta_signature(raw, TEST_ENV["TEST_META_APP_SECRET"])
    r = await svc.client.post("/v1/webhooks/meta", content=raw, headers={"X-Hub-Signature-256": sig})
    assert r.status_code == 200, r.text
    (worker,) = (w for w in svc.parts.workers if isinstance(w, ExtractionWorker))
    while await worker.run_once():
        pass
    return await svc.emitted()


def change(account: str, field: str, value: dict[str, Any]) -> dict[str, Any]:
    obj = "instagram" if account == IG else "page"
    return {
        "object": obj,
        "entry": [{"id": account, "time": 1767226200, "changes": [{"field": field, "value": value}]}],
    }


async def test_instagram_comment_mention_is_read_before_it_is_ticketed(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    service, _ = svc
    comment, media = uid(), uid()
    meta.add_ig_mention(comment, text="@ourbus the 8:15 never came", username="maple_fan", user_id="1133")
    (event,) = await deliver(service, change(IG, "mentions", {"comment_id": comment, "media_id": media}))
    assert isinstance(event, MessageReceived)
    assert (event.kind, event.text, event.author.handle) == (
        "mention",
        "@ourbus the 8:15 never came",
        "maple_fan",
    )
    assert event.author.platform_user_id == "1133"
    (call,) = meta.calls_to("graph.read")
    assert call.request.query["fields"].startswith(f"mentioned_comment.comment_id({comment})")


async def test_failed_read_tickets_what_is_known_and_completes_it_later(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    service, clock = svc
    post = f"4400112233_{uid()}"
    value = {
        "item": "post",
        "verb": "add",
        "post_id": post,
        "sender_id": "4400112233",
        "sender_name": "Lee Park",
    }
    (event,) = await deliver(service, change(PAGE, "mention", value))  # the fake knows no such post yet
    assert isinstance(event, MessageReceived) and event.text == "" and event.author.display_name == "Lee Park"
    (enrichment,) = (w for w in service.parts.workers if isinstance(w, EnrichmentWorker))
    assert await enrichment.run_once() == 0  # not due yet
    meta.add_post(post, message="@OurBus loved the new buses", author_id="4400112233", author_name="Lee Park")
    clock.advance(seconds=31)
    assert await enrichment.run_once() == 1
    (edited,) = await service.emitted()
    assert isinstance(edited, MessageEdited)
    assert (edited.message_id, edited.ticket_id, edited.text) == (
        event.message_id,
        event.ticket_id,
        "@OurBus loved the new buses",
    )
    clock.advance(seconds=3600)
    assert await enrichment.run_once() == 0  # done: never read again


async def test_graph_errors_are_retried_with_backoff(svc: tuple[Booted, FakeClock], meta: FakeMeta) -> None:
    service, clock = svc
    media = uid()
    meta.fail_next(2, status=503)
    await deliver(service, change(IG, "mentions", {"media_id": media}))
    (enrichment,) = (w for w in service.parts.workers if isinstance(w, EnrichmentWorker))
    clock.advance(seconds=31)
    assert await enrichment.run_once() == 1  # fails again (second fault): next try in 60 s
    clock.advance(seconds=31)
    assert await enrichment.run_once() == 0
    meta.add_ig_mention(media, text="look @ourbus", username="ana", user_id=None, media=True)
    clock.advance(seconds=30)
    assert await enrichment.run_once() == 1
    edited, named = await service.emitted()
    assert isinstance(edited, MessageEdited) and edited.text == "look @ourbus"
    assert isinstance(named, MessageAuthorIdentified) and named.author.handle == "ana"


# --- a comment whose author Meta withheld, named only later (decision 0204) ----------------

DANA = "5550001112223"


def withheld(comment_id: str, text: str = "bus never came") -> dict[str, Any]:
    """A Page feed comment delivered without ``from`` (the commenter's privacy)."""
    post = f"{PAGE}_880011"
    value = {"item": "comment", "verb": "add", "post_id": post, "comment_id": comment_id, "parent_id": post}
    return change(PAGE, "feed", {**value, "created_time": 1767258000, "message": text})


def dana_wrote(comment_id: str, text: str) -> dict[str, Any]:
    post = f"{PAGE}_880011"
    value = {"item": "comment", "verb": "add", "post_id": post, "comment_id": comment_id, "parent_id": post}
    author = {"from": {"id": DANA, "name": "Dana Ruiz"}}
    return change(PAGE, "feed", {**value, **author, "created_time": 1767258100, "message": text})


async def while_graph_is_down(service: Booted, meta: FakeMeta, comment: str) -> MessageReceived:
    """Dana's ``comment`` without its author, extracted while the Graph API answers 503."""
    meta.add_post(comment, message="bus never came", author_id=DANA, author_name="Dana Ruiz")
    meta.down_for(3600)
    (received,) = await deliver(service, withheld(comment))
    assert isinstance(received, MessageReceived) and received.author.platform_user_id == f"unknown:{comment}"
    assert [c.status for c in meta.calls if comment in c.request.path] == [503]
    return received


async def graph_back(service: Booted, clock: FakeClock, meta: FakeMeta) -> list[Event]:
    """The Graph API answers again; the enrichment's next try."""
    meta.clear_faults()
    (enrichment,) = (w for w in service.parts.workers if isinstance(w, EnrichmentWorker))
    clock.advance(seconds=31)
    assert await enrichment.run_once() == 1
    return await service.emitted()


async def test_graph_down_then_up_makes_the_placeholder_customer_the_real_person(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    """The read names Dana and leaves the words as they were: the author is told as
    ``MessageAuthorIdentified``, never as an edit (a desk that does not know the type
    ignores it)."""
    service, clock = svc
    received = await while_graph_is_down(service, meta, f"880011_{uid()}")
    (named,) = await graph_back(service, clock, meta)
    assert isinstance(named, MessageAuthorIdentified) and named.message_id == received.message_id
    assert (named.customer_id, named.customer_platform_user_id) == (received.customer_id, DANA)
    assert (named.author.platform_user_id, named.author.display_name) == (DANA, "Dana Ruiz")
    # Her next comment is the same customer's (its own thread: a ticket of its own).
    (again,) = await deliver(service, dana_wrote(f"880011_{uid()}", "still nothing"))
    assert isinstance(again, MessageReceived) and again.customer_id == received.customer_id


async def test_a_read_that_completes_the_words_and_names_the_author_tells_both(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    """New words are a ``MessageEdited`` (with the author, as desks before
    ``MessageAuthorIdentified`` read it), the author ``MessageAuthorIdentified`` after it."""
    service, clock = svc
    comment = f"880011_{uid()}"
    meta.add_post(comment, message="bus never came, 2nd try", author_id=DANA, author_name="Dana Ruiz")
    meta.down_for(3600)
    (received,) = await deliver(service, withheld(comment, text=""))
    edited, named = await graph_back(service, clock, meta)
    assert isinstance(edited, MessageEdited) and edited.text == "bus never came, 2nd try"
    assert edited.author is not None and edited.author.platform_user_id == DANA
    assert edited.customer_id == received.customer_id
    assert isinstance(named, MessageAuthorIdentified) and named.customer_platform_user_id == DANA


async def test_the_desk_shows_the_person_a_late_read_named(
    svc: tuple[Booted, FakeClock], meta: FakeMeta, desk: Booted
) -> None:
    service, clock = svc
    received = await while_graph_is_down(service, meta, f"880011_{uid()}")
    await on_the_desk(desk, received)
    (named,) = await graph_back(service, clock, meta)
    await desk.feed(named)
    shown = await page(desk, received.ticket_id)
    (message,) = [c for c in shown["conversation"] if c["type"] == "message"]
    assert (message["author"], message["text"], message["edited"]) == ("Dana Ruiz", "bus never came", False)
    (channel,) = shown["customer"]["channels"]
    assert (channel["platform_user_id"], channel["display_name"]) == (DANA, "Dana Ruiz")


async def dana_known_then_named(
    service: Booted, clock: FakeClock, meta: FakeMeta
) -> tuple[MessageReceived, MessageReceived, CustomerLinked, MessageAuthorIdentified]:
    """Dana wrote before (with ``from``); her next comment came without it while Graph was
    down, and is named later: linked to her, the placeholder keeps its own id."""
    (known,) = await deliver(service, dana_wrote(f"880011_{uid()}", "where is my bus"))
    assert isinstance(known, MessageReceived)
    comment = f"880011_{uid()}"
    received = await while_graph_is_down(service, meta, comment)
    linked, named = await graph_back(service, clock, meta)
    assert isinstance(linked, CustomerLinked) and isinstance(named, MessageAuthorIdentified)
    return known, received, linked, named


async def test_a_person_already_known_is_linked_to_the_named_placeholder(
    svc: tuple[Booted, FakeClock], meta: FakeMeta
) -> None:
    service, clock = svc
    known, received, linked, named = await dana_known_then_named(service, clock, meta)
    assert linked.linked_by == "rule:enrichment"
    assert set(linked.customer_ids) == {known.customer_id, received.customer_id}
    assert named.customer_id == received.customer_id and named.author.display_name == "Dana Ruiz"
    placeholder = received.author.platform_user_id
    assert named.customer_platform_user_id == placeholder  # the id stays hers alone
    answer = await service.client.get(f"/v1/customers/{received.customer_id}", headers=ANA)
    assert [(c["platform_user_id"], c["display_name"]) for c in answer.json()["identities"]] == [
        (DANA, "Dana Ruiz"),
        (placeholder, "Dana Ruiz"),
    ]


async def test_the_desk_shows_one_customer_with_both_tickets_and_no_identity_twice(
    svc: tuple[Booted, FakeClock], meta: FakeMeta, desk: Booted
) -> None:
    service, clock = svc
    known, received, linked, named = await dana_known_then_named(service, clock, meta)
    await on_the_desk(desk, known)
    await on_the_desk(desk, received)
    await desk.feed(linked, named)
    customer = (await page(desk, received.ticket_id))["customer"]
    channels = sorted((c["platform_user_id"], c["display_name"]) for c in customer["channels"])
    assert channels == [(DANA, "Dana Ruiz"), (received.author.platform_user_id, "Dana Ruiz")]
    assert [t["ticket_id"] for t in customer["other_tickets"]] == [str(known.ticket_id)]


async def test_a_read_that_also_completes_the_words_leaves_the_linked_placeholder_its_own_id(
    svc: tuple[Booted, FakeClock], meta: FakeMeta, desk: Booted
) -> None:
    """The read's ``MessageEdited`` still names the author (for desks before
    ``MessageAuthorIdentified``) and comes first: the desk writes Dana's id on the placeholder
    linked to her, and the ``MessageAuthorIdentified`` right after sets the placeholder's own
    id back (decision 0204 addendum). Fed one batch each: the desk commits between them."""
    service, clock = svc
    (known,) = await deliver(service, dana_wrote(f"880011_{uid()}", "where is my bus"))
    assert isinstance(known, MessageReceived)
    comment = f"880011_{uid()}"
    meta.add_post(comment, message="bus never came, 2nd try", author_id=DANA, author_name="Dana Ruiz")
    meta.down_for(3600)
    (received,) = await deliver(service, withheld(comment, text=""))
    assert isinstance(received, MessageReceived)
    await on_the_desk(desk, known)
    await on_the_desk(desk, received)
    linked, edited, named = await graph_back(service, clock, meta)
    assert isinstance(linked, CustomerLinked) and isinstance(named, MessageAuthorIdentified)
    assert isinstance(edited, MessageEdited) and edited.author is not None
    assert (edited.author.platform_user_id, edited.customer_id) == (DANA, received.customer_id)
    for event in (linked, edited, named):
        assert (await desk.feed(event)).get("processed") == 1
    shown = await page(desk, received.ticket_id)
    placeholder = received.author.platform_user_id
    channels = sorted((c["platform_user_id"], c["display_name"]) for c in shown["customer"]["channels"])
    assert channels == [(DANA, "Dana Ruiz"), (placeholder, "Dana Ruiz")]
    assert [t["ticket_id"] for t in shown["customer"]["other_tickets"]] == [str(known.ticket_id)]
    (message,) = [c for c in shown["conversation"] if c["type"] == "message"]
    assert (message["author"], message["text"]) == ("Dana Ruiz", "bus never came, 2nd try")
    # Replayed (ingest's relay again after a lost acknowledgement): the same state.
    assert (await desk.feed(edited, named)).get("duplicate") == 2
    assert (await page(desk, received.ticket_id))["customer"] == shown["customer"]
