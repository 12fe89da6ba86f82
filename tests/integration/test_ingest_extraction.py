"""ingest's extraction of stored webhook deliveries, booted through its real bootstrap on
real PostgreSQL: threading into tickets, own messages, receipts, statuses, edits and
deletions as facts, media-only messages."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk_schemas import MessageReceived
from socialdesk_schemas.platforms import (
    MessageDeleted,
    MessageEdited,
    OwnMessageSeen,
    PlatformDeliveryReported,
)
from tests.integration.test_ingest_webhooks import (
    PAGE,
    X_USER,
    Hooks,
    comment,
    dm,
    feed,
    hooks,
    whatsapp_change,
)
from tests.support import count, uid

pytestmark = pytest.mark.integration

__all__ = ["hooks"]  # the fixture, shared with the webhook tests


# --- threading -------------------------------------------------------------------------


async def test_comment_threads_and_dms_find_their_tickets(hooks: Hooks) -> None:
    top, reply, other = f"880011_{uid()}", f"880011_{uid()}", f"880011_{uid()}"
    await hooks.meta(feed(comment(top)))
    await hooks.meta(feed(comment(reply, parent=top, author="777", text="same here")))
    await hooks.meta(feed(comment(other, text="another question")))
    await hooks.meta(dm(f"m_{uid()}", text="hello"))
    await hooks.meta(dm(f"m_{uid()}", text="again"))
    ev = [e for e in await hooks.extract() if isinstance(e, MessageReceived)]
    assert [e.kind for e in ev] == ["comment", "comment", "comment", "dm", "dm"]
    t_top, t_reply, t_other, t_dm1, t_dm2 = (e.ticket_id for e in ev)
    assert t_reply == t_top and not ev[1].opens_ticket  # a reply joins its thread's ticket
    assert t_other != t_top and ev[2].opens_ticket  # a new top-level comment opens one
    assert t_dm1 == t_dm2 and ev[3].opens_ticket and not ev[4].opens_ticket


async def test_x_mention_reply_chain_joins_the_first_tweets_ticket(hooks: Hooks) -> None:
    def tweet(tid: str, reply_to: str | None) -> dict[str, Any]:
        return {
            "for_user_id": X_USER,
            "tweet_create_events": [
                {
                    "id_str": tid,
                    "text": "@OurBus where is my bus",
                    "in_reply_to_status_id_str": reply_to,
                    "user": {"id_str": "4400556677", "screen_name": "samo", "name": "Sam"},
                    "timestamp_ms": "1767258900000",
                }
            ],
        }

    first, second = uid(), uid()
    assert (await hooks.x(tweet(first, None))).status_code == 200
    (opened,) = await hooks.extract()
    assert isinstance(opened, MessageReceived) and opened.opens_ticket
    await hooks.x(tweet(second, first))
    await hooks.x(tweet(uid(), second))  # a reply to the reply: still the same thread
    replies = await hooks.extract()
    assert len(replies) == 2 and all(isinstance(e, MessageReceived) for e in replies)
    assert all(e.ticket_id == opened.ticket_id and not e.opens_ticket for e in replies)  # type: ignore[union-attr]


# --- facts: echoes, receipts, statuses, edits, deletions --------------------------------


async def test_echoes_receipts_and_statuses_are_facts_on_the_conversations_ticket(hooks: Hooks) -> None:
    customer = "6123456789012345"
    await hooks.meta(dm(f"m_{uid()}", sender=customer))
    (received,) = await hooks.extract()
    echo_mid = f"m_{uid()}"
    messaging = [
        {
            "sender": {"id": PAGE},
            "recipient": {"id": customer},
            "timestamp": 1767225660200,
            "message": {
                "is_echo": True,
                "app_id": 1,
                "metadata": "sd:reply-42",
                "mid": echo_mid,
                "text": "Yes, today.",
            },
        },
        {
            "sender": {"id": customer},
            "recipient": {"id": PAGE},
            "delivery": {"mids": [echo_mid], "watermark": 1767225661000},
        },
        {
            "sender": {"id": customer},
            "recipient": {"id": PAGE},
            "timestamp": 1767225700400,
            "read": {"watermark": 1767225661000},
        },
        {
            "sender": {"id": PAGE},
            "recipient": {"id": customer},
            "timestamp": 1767225800000,
            "message": {
                "is_echo": True,
                "app_id": 263902037430900,
                "mid": f"m_{uid()}",
                "text": "typed in inbox",
            },
        },
    ]
    body = {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": messaging}]}
    await hooks.meta(body)
    await hooks.meta(body)  # retried: nothing doubles
    events = await hooks.extract()
    assert [type(e).__name__ for e in events] == [
        "OwnMessageSeen",
        "PlatformDeliveryReported",
        "PlatformDeliveryReported",
        "OwnMessageSeen",
    ]
    assert all(e.ticket_id == received.ticket_id for e in events)
    echo, delivered, read, typed = events
    assert (
        isinstance(echo, OwnMessageSeen)
        and echo.delivery_key == "sd:reply-42"
        and not echo.typed_in_platform_inbox
    )
    assert isinstance(delivered, PlatformDeliveryReported) and delivered.platform_message_ids == [echo_mid]
    assert isinstance(read, PlatformDeliveryReported) and read.status == "read" and read.watermark is not None
    assert isinstance(typed, OwnMessageSeen) and typed.typed_in_platform_inbox
    assert await count(hooks.svc.engine, "messages") == 1


async def test_whatsapp_failed_status_is_kept_and_counted(hooks: Hooks) -> None:
    body = whatsapp_change(
        {
            "statuses": [
                {
                    "id": "wamid.HBgFakeOut02",
                    "status": "failed",
                    "timestamp": "1767312000",
                    "recipient_id": "447700900123",
                    "biz_opaque_callback_data": "sd:reply-7",
                    "errors": [{"code": 131047, "title": "Window closed"}],
                }
            ]
        }
    )
    await hooks.meta(body)
    (failed,) = await hooks.extract()
    assert isinstance(failed, PlatformDeliveryReported)
    assert (failed.status, failed.error_code, failed.delivery_key) == ("failed", 131047, "sd:reply-7")
    assert await hooks.metric("ingest_whatsapp_failed_total", error_code="131047") == 1


async def test_comment_edit_and_removal_update_the_message_and_are_published(hooks: Hooks) -> None:
    cid = f"880011_{uid()}"
    await hooks.meta(feed(comment(cid)))
    (received,) = await hooks.extract()
    await hooks.meta(feed(comment(cid, verb="edited", text="Still no refund??")))
    await hooks.meta(feed(comment(cid, verb="remove")))
    await hooks.meta(feed(comment(f"880011_{uid()}", verb="remove")))  # never received: nothing
    edited, deleted = await hooks.extract()
    assert isinstance(edited, MessageEdited) and edited.text == "Still no refund??"
    assert isinstance(deleted, MessageDeleted)
    assert edited.ticket_id == deleted.ticket_id == received.ticket_id
    assert edited.message_id == received.message_id
    assert await hooks.metric("ingest_webhook_items_ignored_total", reason="change_of_unknown_message") == 1


async def test_media_only_whatsapp_message_is_a_readable_customer_message(hooks: Hooks) -> None:
    location = {"latitude": 40.75, "longitude": -73.99, "name": "Port Authority"}
    body = whatsapp_change(
        {
            "contacts": [{"profile": {"name": "Priya N"}, "wa_id": "447700900123"}],
            "messages": [
                {
                    "from": "447700900123",
                    "id": f"wamid.{uid()}",
                    "timestamp": "1767225602",
                    "type": "location",
                    "location": location,
                }
            ],
        }
    )
    await hooks.meta(body)
    (event,) = await hooks.extract()
    assert isinstance(event, MessageReceived) and event.text == "[location: Port Authority (40.75,-73.99)]"
    assert event.platform == "whatsapp" and event.author.display_name == "Priya N"


def x_tweet(
    tid: str, reply_to: str | None, *, author: str = "4400556677", reply_to_user: str | None = None
) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id_str": tid,
        "text": "@OurBus where is my bus" if author != X_USER else "@samo on its way, 10 min",
        "in_reply_to_status_id_str": reply_to,
        "in_reply_to_user_id_str": reply_to_user,
        "user": {"id_str": author, "screen_name": "samo" if author != X_USER else "OurBus", "name": "x"},
        "timestamp_ms": "1767258900000",
    }
    return {"for_user_id": X_USER, "tweet_create_events": [tweet]}


async def test_a_customer_answering_our_reply_on_x_stays_on_their_ticket(hooks: Hooks) -> None:
    """Customer mentions us, we answer (typed in X: filed on their ticket), they answer our
    answer: one conversation, one ticket, not a second ticket per turn."""
    first, ours, theirs = uid(), uid(), uid()
    await hooks.x(x_tweet(first, None))
    (opened,) = await hooks.extract()
    assert isinstance(opened, MessageReceived)
    await hooks.x(x_tweet(ours, first, author=X_USER))
    (seen,) = await hooks.extract()
    assert isinstance(seen, OwnMessageSeen) and seen.ticket_id == opened.ticket_id
    await hooks.x(x_tweet(theirs, ours))
    (answer,) = await hooks.extract()
    assert isinstance(answer, MessageReceived)
    assert answer.ticket_id == opened.ticket_id and not answer.opens_ticket


async def test_customers_answering_a_tweet_we_do_not_know_are_each_their_own_conversation(
    hooks: Hooks,
) -> None:
    """Replies to our announcement (or anyone's tweet) by two people: two tickets, each
    answered to its own author; the same person answering again stays on theirs."""
    announcement = uid()
    await hooks.x(x_tweet(uid(), announcement, author="111"))
    await hooks.x(x_tweet(uid(), announcement, author="222"))
    await hooks.x(x_tweet(uid(), announcement, author="111"))
    a1, b, a2 = (e for e in await hooks.extract() if isinstance(e, MessageReceived))
    assert a1.ticket_id != b.ticket_id and a1.opens_ticket and b.opens_ticket
    assert a2.ticket_id == a1.ticket_id and not a2.opens_ticket


async def test_a_customers_photo_travels_with_its_link(hooks: Hooks) -> None:
    """Messenger serves an attachment by URL only: the event carries it, so the desk can
    show what the customer sent, not just "[image]"."""
    photo = "https://scontent.xx.fbcdn.net/v/t1.15752-9/seat.jpg?_nc_cat=1&oh=abc"
    body = dm(f"m_{uid()}", text="look at this seat")
    body["entry"][0]["messaging"][0]["message"]["attachments"] = [
        {"type": "image", "payload": {"url": photo}}
    ]
    await hooks.meta(body)
    (event,) = await hooks.extract()
    assert isinstance(event, MessageReceived) and event.text == "look at this seat"
    assert [(a.type, a.url) for a in event.attachments] == [("image", photo)]


async def test_on_facebook_a_reply_seen_before_its_comment_still_joins_its_thread(hooks: Hooks) -> None:
    """Webhooks are not ordered: a reply to a comment not stored yet is that comment's
    thread, so the comment arriving after it lands on the same ticket."""
    top = f"880011_{uid()}"
    await hooks.meta(feed(comment(f"880011_{uid()}", parent=top, author="777", text="same here")))
    (reply,) = await hooks.extract()
    await hooks.meta(feed(comment(top, text="bus never came")))
    (first,) = await hooks.extract()
    assert isinstance(reply, MessageReceived) and isinstance(first, MessageReceived)
    assert first.ticket_id == reply.ticket_id


async def test_people_answering_the_pages_own_comment_are_each_their_own_conversation(hooks: Hooks) -> None:
    ours = f"880011_{uid()}"
    await hooks.meta(feed(comment(ours, author=PAGE, text="Service update: 3pm delayed")))
    (seen,) = await hooks.extract()
    assert isinstance(seen, OwnMessageSeen)
    await hooks.meta(feed(comment(f"880011_{uid()}", parent=ours, author="111", text="how long?")))
    await hooks.meta(feed(comment(f"880011_{uid()}", parent=ours, author="222", text="refund me")))
    a, b = (e for e in await hooks.extract() if isinstance(e, MessageReceived))
    assert a.ticket_id != b.ticket_id and a.opens_ticket and b.opens_ticket


async def test_an_x_thread_of_ones_own_tweets_seen_out_of_order_is_one_ticket(hooks: Hooks) -> None:
    """ "2/2" (a reply to one's own "1/2") extracted first keeps 1/2's thread: when 1/2
    arrives (late webhook, the poller's backfill) it lands on the same ticket."""
    first, second = uid(), uid()
    await hooks.x(x_tweet(second, first, author="555", reply_to_user="555"))
    (late,) = await hooks.extract()
    await hooks.x(x_tweet(first, None, author="555"))
    (opener,) = await hooks.extract()
    assert isinstance(late, MessageReceived) and isinstance(opener, MessageReceived)
    assert opener.ticket_id == late.ticket_id


async def test_answering_our_older_x_reply_finds_its_thread_after_the_thread_moved_ticket(
    hooks: Hooks,
) -> None:
    """Mention, our reply R1, the customer comes back two hours later (idle: the thread gets a
    new ticket), then answers R1: that answer is the thread's, on its current ticket."""
    first, ours = uid(), uid()
    await hooks.x(x_tweet(first, None))
    await hooks.x(x_tweet(ours, first, author=X_USER))
    await hooks.extract()
    hooks.clock.advance(seconds=2 * 3600)
    await hooks.x(x_tweet(uid(), first, reply_to_user="4400556677"))
    (back,) = await hooks.extract()
    await hooks.x(x_tweet(uid(), ours, reply_to_user=X_USER))
    (answer,) = await hooks.extract()
    assert isinstance(back, MessageReceived) and isinstance(answer, MessageReceived)
    assert back.opens_ticket and answer.ticket_id == back.ticket_id and not answer.opens_ticket


async def test_an_answer_to_our_x_reply_in_the_same_batch_stays_on_the_ticket(hooks: Hooks) -> None:
    first, ours = uid(), uid()
    await hooks.x(x_tweet(first, None))
    (opened,) = await hooks.extract()
    await hooks.x(x_tweet(ours, first, author=X_USER))
    await hooks.x(x_tweet(uid(), ours, reply_to_user=X_USER))
    (answer,) = [e for e in await hooks.extract() if isinstance(e, MessageReceived)]
    assert isinstance(opened, MessageReceived)
    assert answer.ticket_id == opened.ticket_id and not answer.opens_ticket


async def test_a_whatsapp_user_who_later_hides_their_number_stays_the_same_customer(hooks: Hooks) -> None:
    """First with phone and business-scoped id, then (username adopted) with the id alone:
    one customer, one conversation; a status naming only the id is that ticket's."""
    bsuid, phone = f"US.{uid()}", "447700900555"
    await hooks.meta(
        whatsapp_change(
            {
                "contacts": [{"profile": {"name": "Jo"}, "wa_id": phone, "user_id": bsuid}],
                "messages": [
                    {"from": phone, "id": f"wamid.{uid()}", "type": "text", "text": {"body": "bus late"}}
                ],
            }
        )
    )
    (first,) = await hooks.extract()
    await hooks.meta(
        whatsapp_change(
            {
                "contacts": [{"profile": {"name": "Jo", "username": "@jo"}, "user_id": bsuid}],
                "messages": [
                    {"from_user_id": bsuid, "id": f"wamid.{uid()}", "type": "text", "text": {"body": "still"}}
                ],
                "statuses": [
                    {
                        "id": "wamid.ours1",
                        "status": "read",
                        "timestamp": "1767225700",
                        "recipient_user_id": bsuid,
                    }
                ],
            }
        )
    )
    events = await hooks.extract()
    (second,) = [e for e in events if isinstance(e, MessageReceived)]
    (status,) = [e for e in events if isinstance(e, PlatformDeliveryReported)]
    assert isinstance(first, MessageReceived)
    assert (second.customer_id, second.ticket_id) == (first.customer_id, first.ticket_id)
    assert second.author.platform_user_id == phone and not second.opens_ticket
    assert status.ticket_id == first.ticket_id
