"""X reconciliation's pure conversion: v2 reads → the Account Activity body the parser reads."""

from __future__ import annotations

from datetime import UTC, datetime

from socialdesk_ingest.domain.platforms.items import CustomerMessage
from socialdesk_ingest.domain.platforms.reconcile_x import (
    dm_events_as_delivery,
    mentions_as_delivery,
    reaches_back_to,
)
from socialdesk_ingest.domain.platforms.x import parse_x

ME, SAM = "3300112233", "4400556677"
SINCE = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
USERS = {"users": [{"id": SAM, "name": "Sam", "username": "samo", "public_metrics": {"followers_count": 12}}]}


def dm(event_id: str, sender: str, at: str, text: str = "hi", **extra: object) -> dict[str, object]:
    return {
        "id": event_id,
        "event_type": "MessageCreate",
        "text": text,
        "sender_id": sender,
        "created_at": at,
        **extra,
    }


def test_customer_dms_since_the_lookback_become_one_delivery_oldest_first() -> None:
    page = {
        "data": [
            dm("3", SAM, "2026-01-01T09:02:00.000Z", "third"),
            dm("2", ME, "2026-01-01T09:01:00.000Z", "ours"),
            {"id": "9", "event_type": "ParticipantsJoin", "created_at": "2026-01-01T09:00:30.000Z"},
            dm("1", SAM, "2026-01-01T09:00:00.000Z", "first"),
            dm("0", SAM, "2026-01-01T07:00:00.000Z", "too old"),
            dm("5", SAM, "not a time"),
        ],
        "includes": USERS,
    }
    body = dm_events_as_delivery([page, page], account_id=ME, since=SINCE)
    assert body is not None
    assert [e["id"] for e in body["direct_message_events"]] == ["1", "3"]
    messages = [i for i in parse_x(body).items if isinstance(i, CustomerMessage)]
    assert [(m.platform_message_id, m.text, m.author.handle, m.author.followers) for m in messages] == [
        ("1", "first", "samo", 12),
        ("3", "third", "samo", 12),
    ]
    assert messages[0].sent_at == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert dm_events_as_delivery([{"meta": {"result_count": 0}}], account_id=ME, since=SINCE) is None


def test_a_media_only_dm_keeps_its_attachment() -> None:
    page = {
        "data": [
            dm(
                "7",
                SAM,
                "2026-01-01T09:00:00.000Z",
                "https://t.co/abc",
                attachments={"media_keys": ["3_998"]},
            )
        ]
    }
    body = dm_events_as_delivery([page], account_id=ME, since=SINCE)
    assert body is not None
    (message,) = [i for i in parse_x(body).items if isinstance(i, CustomerMessage)]
    assert [(a.type, a.id) for a in message.attachments] == [("image", "998")]
    assert message.text.startswith("[")  # rendered, not the bare t.co link


def test_mentions_keep_replies_and_drop_retweets_our_own_and_old_ones() -> None:
    page = {
        "data": [
            {
                "id": "14",
                "text": "RT @samo: @ourbus",
                "author_id": SAM,
                "created_at": "2026-01-01T09:05:00.000Z",
                "referenced_tweets": [{"type": "retweeted", "id": "11"}],
            },
            {"id": "13", "text": "@samo sorry", "author_id": ME, "created_at": "2026-01-01T09:04:00.000Z"},
            {
                "id": "12",
                "text": "@ourbus any news?",
                "author_id": SAM,
                "created_at": "2026-01-01T09:03:00.000Z",
                "in_reply_to_user_id": ME,
                "referenced_tweets": [{"type": "replied_to", "id": "11"}],
            },
            {"id": "10", "text": "@ourbus old", "author_id": SAM, "created_at": "2025-12-31T09:00:00.000Z"},
        ],
        "includes": USERS,
    }
    body = mentions_as_delivery([page], account_id=ME, since=SINCE)
    assert body is not None
    (message,) = [i for i in parse_x(body).items if isinstance(i, CustomerMessage)]
    assert (message.platform_message_id, message.kind, message.in_reply_to, message.thread_root) == (
        "12",
        "mention",
        "11",
        "11",
    )
    assert (message.author.handle, message.author.display_name) == ("samo", "Sam")


def test_dm_paging_stops_once_a_page_reaches_back_past_the_lookback() -> None:
    newer = {"data": [dm("3", SAM, "2026-01-01T09:00:00.000Z")], "meta": {"next_token": "p1"}}
    older = {"data": [dm("2", SAM, "2026-01-01T07:59:59.000Z")], "meta": {"next_token": "p2"}}
    last = {"data": [dm("1", SAM, "2026-01-01T09:00:00.000Z")], "meta": {}}
    assert not reaches_back_to(newer, SINCE)
    assert reaches_back_to(older, SINCE)
    assert reaches_back_to(last, SINCE)
    assert reaches_back_to({"meta": {"result_count": 0}}, SINCE)
