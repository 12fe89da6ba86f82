"""Comments by our own Facebook Page and Instagram account (typed in Meta Business Suite, or
the echo of a reply the desk sent), through ingest's real bootstrap on real PostgreSQL:
filed on the ticket of the customer message they answer, shown there once as the brand's
(decision 0204). The desk's half runs on the assigner's real bootstrap beside it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC as ASSIGNER
from socialdesk_ingest.domain.platforms import recipient_ticket
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.embedded import EmbeddedPostgres
from socialdesk_schemas import MessageClassified, MessageReceived, TicketAssigned
from socialdesk_schemas.platforms import OwnMessageSeen
from tests.integration.test_assigner import classified
from tests.integration.test_desk import auth, page
from tests.integration.test_ingest_extraction import x_tweet
from tests.integration.test_ingest_webhooks import IG, PAGE, X_USER, Hooks, comment, feed, hooks
from tests.support import Booted, booted, count, uid

pytestmark = pytest.mark.integration

__all__ = [
    "classification_of",
    "desk",
    "hooks",
    "on_the_desk",
]  # fixtures and helper shared with the enrichment tests

#: The Unix time of the tests' clock (2026-01-01 09:00 UTC): what Meta stamps a comment made now.
NOW = 1767258000


@pytest.fixture
async def desk(postgres: EmbeddedPostgres) -> AsyncIterator[Booted]:
    """The assigner (the desk) on a database of its own, beside ingest's."""
    name = f"desk_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    async with booted(ASSIGNER, postgres.url(name), clock=FakeClock()) as svc:
        yield svc


def classification_of(desk: Booted, received: MessageReceived, **over: Any) -> MessageClassified:
    """ingest's customer message as the classifier would classify it (``over``: other fields)."""
    return classified(
        desk,
        ticket_id=received.ticket_id,
        message_id=received.message_id,
        conversation_id=received.conversation_id,
        customer_id=received.customer_id,
        brand=received.brand,
        platform=received.platform,
        kind=received.kind,
        platform_message_id=received.platform_message_id,
        author_platform_user_id=received.author.platform_user_id,
        **over,
    )


async def on_the_desk(desk: Booted, received: MessageReceived) -> None:
    """ingest's customer message on the desk, classified as the classifier would."""
    outcome = await desk.feed(received, classification_of(desk, received))
    assert outcome.get("processed") == 2, outcome


def ig_comment(comment_id: str, author: str, text: str, parent: str | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id": comment_id,
        "from": {"id": author, "username": "ourbus" if author == IG else "maple_fan"},
        "text": text,
        "media": {"id": "17999888777666555", "media_product_type": "FEED"},
    }
    if parent is not None:
        value["parent_id"] = parent
    change = {"field": "comments", "value": value}
    return {"object": "instagram", "entry": [{"id": IG, "time": NOW, "changes": [change]}]}


async def test_the_pages_comment_in_meta_is_on_the_customers_ticket_and_no_placeholder(hooks: Hooks) -> None:
    """The customer comments, someone at OurBus answers in Meta Business Suite, the customer
    answers that: one ticket, the Page's comment on it as the brand's, no "ours" ticket."""
    top, ours = f"880011_{uid()}", f"880011_{uid()}"
    await hooks.meta(feed(comment(top, text="Still no refund?")))
    (opened,) = await hooks.extract()
    assert isinstance(opened, MessageReceived)
    await hooks.meta(feed(comment(ours, parent=top, author=PAGE, text="Dana, it left today.")))
    (seen,) = await hooks.extract()
    assert isinstance(seen, OwnMessageSeen) and seen.ticket_id == opened.ticket_id
    assert (seen.platform, seen.kind, seen.text) == ("facebook", "comment", "Dana, it left today.")
    assert seen.typed_in_platform_inbox  # Meta does not say which app wrote it: the desk decides
    assert seen.ticket_id != recipient_ticket(opened.brand, "facebook", None)
    await hooks.meta(feed(comment(f"880011_{uid()}", parent=ours, text="Got it, thanks!")))
    (answer,) = await hooks.extract()
    assert isinstance(answer, MessageReceived)
    assert answer.ticket_id == opened.ticket_id and not answer.opens_ticket
    assert await count(hooks.svc.engine, "conversations") == 1


async def test_the_pages_comment_under_a_visitors_post_is_on_the_posts_ticket(hooks: Hooks) -> None:
    post = f"{PAGE}_{uid()}"
    visitor = {"from": {"id": "5550001112223", "name": "Dana Ruiz"}, "item": "status", "verb": "add"}
    await hooks.meta(feed({**visitor, "post_id": post, "created_time": NOW, "message": "Lost my bag"}))
    (opened,) = await hooks.extract()
    ours = {
        **comment(f"{uid()}_{uid()}", parent=post, author=PAGE, text="Sorry, which trip?"),
        "post_id": post,
    }
    await hooks.meta(feed(ours))
    (seen,) = await hooks.extract()
    assert isinstance(opened, MessageReceived) and isinstance(seen, OwnMessageSeen)
    assert seen.ticket_id == opened.ticket_id


async def test_our_instagram_reply_is_on_the_commenters_ticket(hooks: Hooks) -> None:
    theirs, ours = uid(), uid()
    await hooks.meta(ig_comment(theirs, "1133557799002244", "Price to Leeds?"))
    (opened,) = await hooks.extract()
    await hooks.meta(ig_comment(ours, IG, "@maple_fan from 12 GBP", parent=theirs))
    (seen,) = await hooks.extract()
    assert isinstance(opened, MessageReceived) and isinstance(seen, OwnMessageSeen)
    assert (seen.platform, seen.ticket_id) == ("instagram", opened.ticket_id)


async def test_a_comment_and_the_pages_answer_in_one_delivery_share_the_ticket(hooks: Hooks) -> None:
    top = f"880011_{uid()}"
    await hooks.meta(feed(comment(top), comment(f"880011_{uid()}", parent=top, author=PAGE, text="On it")))
    opened, seen = await hooks.extract()
    assert isinstance(opened, MessageReceived) and isinstance(seen, OwnMessageSeen)
    assert seen.ticket_id == opened.ticket_id


async def test_the_pages_comment_answering_nothing_we_know_stays_on_the_placeholder(hooks: Hooks) -> None:
    """Under the Page's own post (never a customer message), or answering a comment we never
    received: as before, the per-platform placeholder (decision 0204, the fallback)."""
    await hooks.meta(feed(comment(f"880011_{uid()}", author=PAGE, text="Timetable change from Monday")))
    await hooks.meta(feed(comment(f"880011_{uid()}", parent=f"880011_{uid()}", author=PAGE, text="Hi")))
    announcement, unknown = await hooks.extract()
    assert isinstance(announcement, OwnMessageSeen) and isinstance(unknown, OwnMessageSeen)
    placeholder = recipient_ticket(announcement.brand, "facebook", None)
    assert announcement.ticket_id == unknown.ticket_id == placeholder


async def test_the_echo_of_the_desks_reply_is_shown_once_and_a_comment_typed_in_meta_as_the_brands(
    hooks: Hooks, desk: Booted
) -> None:
    """An agent answers on the desk; the Page's comment that reply became comes back through
    the webhook (no key of ours in it) and settles the reply instead of appearing twice; a
    comment someone typed in Meta Business Suite is shown as the brand's."""
    top = f"880011_{uid()}"
    await hooks.meta(feed(comment(top, text="Still no refund?")))
    (received,) = await hooks.extract()
    assert isinstance(received, MessageReceived)
    await on_the_desk(desk, received)
    owner = next(e.agent_id for e in await desk.emitted() if isinstance(e, TicketAssigned))
    sent = await desk.client.post(
        f"/v1/tickets/{received.ticket_id}/reply",
        json={"text": "Dana, the refund left today."},
        headers=auth(owner),
    )
    assert sent.status_code == 202, sent.text

    echo, typed = f"880011_{uid()}", f"880011_{uid()}"
    for cid, words in ((echo, "Dana, the refund left today."), (typed, "Also: sorry for the wait!")):
        ours = {**comment(cid, parent=top, author=PAGE, text=words), "created_time": NOW + 2}
        await hooks.meta(feed(ours))
    seen = await hooks.extract()
    assert [e.ticket_id for e in seen if isinstance(e, OwnMessageSeen)] == [received.ticket_id] * 2
    assert isinstance(desk.runtime.clock, FakeClock)
    desk.runtime.clock.advance(seconds=2)
    outcome = await desk.feed(*seen)
    assert outcome.get("processed") == 2, outcome

    talk = (await page(desk, received.ticket_id))["conversation"]
    replies = [c for c in talk if c["type"] == "reply"]
    assert [(c["from"], c["text"]) for c in replies] == [
        ("agent", "Dana, the refund left today."),
        ("platform_inbox", "Also: sorry for the wait!"),
    ]
    assert (replies[0]["delivery"], replies[0]["platform_message_id"]) == ("sent", echo)


async def test_our_comment_is_on_the_ticket_of_the_comment_it_answers_not_the_threads_newer_one(
    hooks: Hooks,
) -> None:
    """C1 opens T1; after the idle time a reply under C1 opens T2 in the same thread. The
    Page's answer to C1 (the echo of the agent's reply on T1) belongs to T1, its answer to
    the reply to T2: filed by the ticket that stored the message answered."""
    c1, c2 = f"880011_{uid()}", f"880011_{uid()}"
    await hooks.meta(feed(comment(c1, text="Still no refund?")))
    (t1,) = await hooks.extract()
    hooks.clock.advance(seconds=4000)
    await hooks.meta(feed(comment(c2, parent=c1, text="Hello??")))
    (t2,) = await hooks.extract()
    assert isinstance(t1, MessageReceived) and isinstance(t2, MessageReceived)
    assert t2.opens_ticket and t2.ticket_id != t1.ticket_id
    to_c1, to_c2 = f"880011_{uid()}", f"880011_{uid()}"
    await hooks.meta(feed(comment(to_c1, parent=c1, author=PAGE, text="Dana, the refund left today.")))
    await hooks.meta(feed(comment(to_c2, parent=c2, author=PAGE, text="See above!")))
    first, second = await hooks.extract()
    assert isinstance(first, OwnMessageSeen) and isinstance(second, OwnMessageSeen)
    assert (first.ticket_id, second.ticket_id) == (t1.ticket_id, t2.ticket_id)
    # Our comment answering our own earlier comment: the ticket that one was filed on.
    await hooks.meta(feed(comment(f"880011_{uid()}", parent=to_c1, author=PAGE, text="P.S.")))
    (again,) = await hooks.extract()
    assert isinstance(again, OwnMessageSeen) and again.ticket_id == t1.ticket_id


async def test_our_x_reply_is_on_the_ticket_of_the_tweet_it_answers(hooks: Hooks) -> None:
    """The customer's tweet opens T1; two hours later they add to it (T2, same thread); our
    reply to the first tweet is T1's, our reply to the later one T2's."""
    first, later = uid(), uid()
    await hooks.x(x_tweet(first, None))
    (t1,) = await hooks.extract()
    hooks.clock.advance(seconds=2 * 3600)
    await hooks.x(x_tweet(later, first, reply_to_user="4400556677"))
    (t2,) = await hooks.extract()
    assert isinstance(t1, MessageReceived) and isinstance(t2, MessageReceived) and t2.opens_ticket
    await hooks.x(x_tweet(uid(), first, author=X_USER))
    await hooks.x(x_tweet(uid(), later, author=X_USER))
    to_first, to_later = await hooks.extract()
    assert isinstance(to_first, OwnMessageSeen) and isinstance(to_later, OwnMessageSeen)
    assert (to_first.ticket_id, to_later.ticket_id) == (t1.ticket_id, t2.ticket_id)


async def test_people_answering_the_pages_comment_in_the_same_batch_are_each_their_own_conversation(
    hooks: Hooks,
) -> None:
    """The Page's announcement and two people's answers to it in one delivery: two tickets,
    as when the announcement came first; a third answering later has their own too."""
    ours = f"880011_{uid()}"
    await hooks.meta(
        feed(
            comment(ours, author=PAGE, text="Timetable change"),
            comment(f"880011_{uid()}", parent=ours, author="111", text="why?"),
            comment(f"880011_{uid()}", parent=ours, author="222", text="when?"),
        )
    )
    a, b = (e for e in await hooks.extract() if isinstance(e, MessageReceived))
    await hooks.meta(feed(comment(f"880011_{uid()}", parent=ours, author="333", text="huh?")))
    (c,) = (e for e in await hooks.extract() if isinstance(e, MessageReceived))
    assert len({a.ticket_id, b.ticket_id, c.ticket_id}) == 3 and a.opens_ticket and b.opens_ticket


async def test_a_tweet_our_reply_and_the_answer_to_it_in_one_batch_are_one_ticket(hooks: Hooks) -> None:
    first, ours = uid(), uid()
    for body in (
        x_tweet(first, None),
        x_tweet(ours, first, author=X_USER),
        x_tweet(uid(), ours, reply_to_user=X_USER),
    ):
        await hooks.x(body)
    opened, answer = (e for e in await hooks.extract() if isinstance(e, MessageReceived))
    assert answer.ticket_id == opened.ticket_id and not answer.opens_ticket
