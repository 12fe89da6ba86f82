"""A public comment reply whose send answer was lost is looked up on the platform, never sent
twice: through the notifier's real bootstrap and PostgreSQL against the Meta fake, which
takes the reply and then cuts the connection. Comment replies carry no key of ours, so no
echo settles them here. Fixtures and helpers come from :mod:`tests.integration.test_notifier_replies`."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from socialdesk_notifier.tables import deliveries
from socialdesk_schemas import ReplyRequested
from socialdesk_schemas.outbound import DeliveryFailed, DeliverySucceeded
from tests.fakes._http import Reply
from tests.fakes.meta import FakeMeta
from tests.integration.test_notifier_replies import (  # fixtures too: pytest finds them here
    IGSID,
    clock_of,
    meta,
    notifier,
    outcome,
    reply,
    worker_of,
    x,
)
from tests.support import Booted

pytestmark = pytest.mark.integration

__all__ = ["meta", "notifier", "x"]

CUSTOMER = "5550001112223"
FB_COMMENT, IG_COMMENT = "880011_990022", "18012345678901234"


def comment_reply(svc: Booted, meta: FakeMeta, platform: str = "facebook") -> ReplyRequested:
    """A reply to a customer's comment; the fake stamps replies with the notifier's clock."""
    meta.clock = clock_of(svc).now
    comment = FB_COMMENT if platform == "facebook" else IG_COMMENT
    meta.add_comment(comment)
    recipient = CUSTOMER if platform == "facebook" else IGSID
    return reply(svc, platform, "comment", recipient, in_reply_to_platform_message_id=comment)


def lookups(meta: FakeMeta) -> int:
    return len(meta.calls_to("comments.list")) + len(meta.calls_to("instagram.replies"))


async def a_lost_reply(svc: Booted, meta: FakeMeta) -> Any:
    """A Facebook comment reply Meta posts but whose answer never comes back; the worker."""
    worker = worker_of(svc)
    meta.lose_answer_next(1, api="comments")
    await svc.feed(comment_reply(svc, meta))
    await worker.run_once()
    return worker


async def row(svc: Booted) -> tuple[str, int]:
    async with svc.engine.connect() as conn:
        status, throttles = (await conn.execute(select(deliveries.c.status, deliveries.c.throttles))).one()
    return status, throttles


@pytest.mark.parametrize(("platform", "api"), [("facebook", "comments"), ("instagram", "instagram_replies")])
async def test_a_comment_reply_whose_answer_was_lost_is_found_on_the_comment_not_sent_again(
    notifier: Booted, meta: FakeMeta, platform: str, api: str
) -> None:
    worker = worker_of(notifier)
    event = comment_reply(notifier, meta, platform)
    parent = event.in_reply_to_platform_message_id
    assert parent is not None
    # The customer (or anyone) wrote the very same words under the comment: not ours.
    meta.add_comment_reply(parent, text=event.text, author_id=IGSID, ig=platform == "instagram")
    meta.lose_answer_next(1, api=api)  # Meta posts our reply; the answer never comes back
    await notifier.feed(event)
    await worker.run_once()
    (send,) = meta.sends
    assert await notifier.emitted() == []
    assert await row(notifier) == ("pending", 0)

    clock_of(notifier).advance(seconds=2)  # the retry is due; no echo arrived
    await worker.run_once()

    assert len(meta.sends) == 1
    assert [r["id"] for r in meta.comment_replies(parent)][1:] == [send.response["id"]]
    assert lookups(meta) == 1
    sent = await outcome(notifier)
    assert isinstance(sent, DeliverySucceeded)
    assert sent.platform_message_id == send.response["id"]
    recovered = notifier.runtime.metrics.registry.get_sample_value(
        "notifier_deliveries_recovered_total", {"channel": platform}
    )
    assert recovered == 1


async def test_a_throttled_lookup_sends_nothing_and_asks_again_later(
    notifier: Booted, meta: FakeMeta
) -> None:
    worker = await a_lost_reply(notifier, meta)
    meta.rate_limit_next(1, api="comments", status=429)  # the lookup itself is throttled
    clock_of(notifier).advance(seconds=2)
    await worker.run_once()
    assert len(meta.sends) == 1
    assert lookups(meta) == 1
    assert await notifier.emitted() == []
    assert await row(notifier) == ("pending", 1)

    clock_of(notifier).advance(seconds=180)  # past the echo wait, too: still no blind resend
    await worker.run_once()
    assert len(meta.sends) == 1
    assert lookups(meta) == 2
    assert isinstance(await outcome(notifier), DeliverySucceeded)


async def test_a_failing_lookup_after_the_echo_wait_still_sends_nothing(
    notifier: Booted, meta: FakeMeta
) -> None:
    worker = await a_lost_reply(notifier, meta)
    clock_of(notifier).advance(seconds=180)
    meta.fail_next(1, status=503, api="comments")
    await worker.run_once()
    meta.lose_answer_next(1, api="comments")  # the lookup's own answer lost: a timeout
    clock_of(notifier).advance(seconds=5)
    await worker.run_once()
    assert len(meta.sends) == 1
    assert await notifier.emitted() == []
    clock_of(notifier).advance(seconds=10)
    await worker.run_once()
    assert len(meta.sends) == 1
    assert lookups(meta) == 3
    assert isinstance(await outcome(notifier), DeliverySucceeded)


async def test_a_reply_the_lookup_does_not_find_is_sent_again_once_the_echo_wait_passed(
    notifier: Booted, meta: FakeMeta
) -> None:
    worker = worker_of(notifier)
    meta.fail_next(1, status=500, api="comments")  # a 500 before Meta posted anything
    await notifier.feed(comment_reply(notifier, meta))
    await worker.run_once()
    clock_of(notifier).advance(seconds=2)
    await worker.run_once()
    assert meta.sends == [], "not found yet, but the listing may lag: wait out the echo wait"
    clock_of(notifier).advance(seconds=180)
    await worker.run_once()
    (send,) = meta.sends
    assert lookups(meta) == 2
    sent = await outcome(notifier)
    assert isinstance(sent, DeliverySucceeded)
    assert sent.platform_message_id == send.response["id"]
    assert len(meta.comment_replies(FB_COMMENT)) == 1


async def test_a_deleted_comment_cannot_be_checked_and_fails_unverifiable(
    notifier: Booted, meta: FakeMeta
) -> None:
    worker = await a_lost_reply(notifier, meta)
    meta.delete_comment(FB_COMMENT)
    clock_of(notifier).advance(seconds=2)
    await worker.run_once()  # 100/33: an echo may still come, so it waits
    assert await notifier.emitted() == []
    clock_of(notifier).advance(seconds=180)
    await worker.run_once()
    failed = await outcome(notifier)
    assert isinstance(failed, DeliveryFailed)
    assert failed.reason == "unverifiable"
    assert len(meta.sends) == 1


async def test_the_same_words_sent_by_another_delivery_are_not_taken_for_ours(
    notifier: Booted, meta: FakeMeta
) -> None:
    worker = worker_of(notifier)
    first = comment_reply(notifier, meta)
    await notifier.feed(first)
    await worker.run_once()
    (earlier,) = meta.sends
    assert isinstance(await outcome(notifier), DeliverySucceeded)
    # The agent answers the same comment with the same words again; that answer is lost.
    meta.lose_answer_next(1, api="comments")
    await notifier.feed(comment_reply(notifier, meta).model_copy(update={"text": first.text}))
    await worker.run_once()
    _, lost = meta.sends
    clock_of(notifier).advance(seconds=2)
    await worker.run_once()
    sent = await outcome(notifier)
    assert isinstance(sent, DeliverySucceeded)
    assert sent.platform_message_id == lost.response["id"] != earlier.response["id"]
    assert len(meta.sends) == 2


@pytest.mark.parametrize("body", ["<html>502 Bad Gateway</html>", {"paging": {}}])
async def test_a_listing_without_graphs_data_is_no_answer_and_sends_nothing(
    notifier: Booted, meta: FakeMeta, body: object
) -> None:
    worker = await a_lost_reply(notifier, meta)
    clock_of(notifier).advance(seconds=180)  # past the echo wait: only the lookup stands in the way
    meta.answer_next(
        1, Reply(200, body), matches=lambda r: r.method == "GET" and r.path.endswith("/comments")
    )
    await worker.run_once()
    assert len(meta.sends) == 1, "a 200 without a data list is not 'no replies'"
    assert await notifier.emitted() == []
    clock_of(notifier).advance(seconds=10)
    await worker.run_once()
    assert len(meta.sends) == 1
    assert isinstance(await outcome(notifier), DeliverySucceeded)
