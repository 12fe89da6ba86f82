"""Channel health verdicts and Graph enrichment answers (pure)."""

from __future__ import annotations

import dataclasses

from socialdesk_ingest.domain import IncomingAuthor, IncomingMessage
from socialdesk_ingest.domain.platforms.enrichment import (
    Enrichment,
    GraphRead,
    as_own,
    by_own_account,
    enriched,
    graph_read,
    identified_author,
    parse_graph_answer,
    retry_delay,
)
from socialdesk_ingest.domain.platforms.health import graph_verdict, x_verdict
from socialdesk_ingest.domain.platforms.items import Ignored, OwnMessage


def graph_error(code: int, status: int = 400) -> tuple[int, dict[str, object]]:
    return status, {
        "error": {"message": f"(#{code}) x", "type": "OAuthException", "code": code, "fbtrace_id": "A"}
    }


def test_graph_verdicts() -> None:
    assert graph_verdict(200, {"id": "1"}).healthy is True
    expired = graph_verdict(*graph_error(190, 401))
    assert (expired.healthy, expired.problem, expired.error_code) == (False, "token_expired", 190)
    assert graph_verdict(*graph_error(10)).problem == "permission_missing"
    assert graph_verdict(*graph_error(200)).problem == "permission_missing"
    # Throttling and server errors say nothing about the channel.
    assert graph_verdict(*graph_error(613)).healthy is None
    assert graph_verdict(500, None).healthy is None


def test_x_verdicts() -> None:
    assert x_verdict(200, {"data": {}}).healthy is True
    assert x_verdict(401, {"title": "Unauthorized"}).problem == "token_expired"
    assert x_verdict(403, {"detail": "forbidden"}).problem == "permission_missing"
    assert x_verdict(429, {"errors": [{"code": 88}]}).healthy is None


def mention(platform: str, mid: str, in_reply_to: str | None = None) -> IncomingMessage:
    return IncomingMessage(
        brand="ourbus",
        platform=platform,
        kind="mention",
        platform_message_id=mid,  # type: ignore[arg-type]
        author=IncomingAuthor("unknown"),
        text="",
        in_reply_to=in_reply_to,
    )


def test_enrichment_reads_and_answers() -> None:
    comment = graph_read(mention("instagram", "c1", in_reply_to="m1"), ig_account="178")
    assert comment is not None and comment.object_id == "178" and comment.edge == "mentioned_comment"
    assert comment.fields.startswith("mentioned_comment.comment_id(c1)")
    media = graph_read(mention("instagram", "m1"), ig_account="178")
    assert media is not None and media.edge == "mentioned_media"
    post = graph_read(mention("facebook", "44_55"), ig_account=None)
    assert post is not None and post.object_id == "44_55" and post.edge is None
    assert graph_read(mention("x", "1"), ig_account="178") is None
    # a Facebook comment whose author Meta withheld is read the same way as a mention
    withheld = dataclasses.replace(mention("facebook", "880011_1"), kind="comment")
    read = graph_read(withheld, ig_account=None)
    assert read is not None and read.object_id == "880011_1" and "from" in read.fields

    found = parse_graph_answer(
        comment,
        {
            "mentioned_comment": {
                "text": "@ourbus hi",
                "from": {"id": "77", "username": "ana"},
                "timestamp": "2026-01-01T09:00:00+0000",
            }
        },
    )
    assert found is not None and found.author is not None and found.author.handle == "ana"
    msg = enriched(mention("instagram", "c1", "m1"), found)
    assert (msg.text, msg.author.platform_user_id) == ("@ourbus hi", "77") and msg.sent_at is not None
    assert parse_graph_answer(comment, {"id": "178"}) is None
    assert [retry_delay(n) for n in (1, 2, 3, 10)] == [30.0, 60.0, 120.0, 3600.0]


def test_a_late_read_names_only_a_withheld_author() -> None:
    """The author a read names replaces a placeholder customer, never a known one, and never
    with one of our own accounts."""
    dana = IncomingAuthor("5550001112223", display_name="Dana Ruiz")
    found = Enrichment(text="bus never came", author=dana, sent_at=None)
    assert identified_author("unknown:880011_1", found) == dana
    assert identified_author("4400112233", found) is None  # the mention's sender was known
    assert identified_author("unknown:880011_1", Enrichment("bus never came", None, None)) is None
    assert identified_author("unknown:880011_1", None) is None
    page = Enrichment("Timetable change", IncomingAuthor("730011223344556", display_name="OurBus"), None)
    assert identified_author("unknown:880011_1", page, own={"730011223344556"}) is None
    assert by_own_account(page, {"730011223344556"}) and not by_own_account(found, {"730011223344556"})


def test_a_username_alone_names_the_author_and_makes_them_no_one() -> None:
    """``mentioned_media`` gives a username, no user id: the message shows the handle, its
    author keeps the placeholder id (usernames change hands), at extraction and later."""
    media = GraphRead("178", "mentioned_media.media_id(m1){id,caption,timestamp,username}", "mentioned_media")
    found = parse_graph_answer(
        media, {"mentioned_media": {"id": "m1", "caption": "look @ourbus", "username": "ana"}}
    )
    assert found is not None and found.author is None and found.username == "ana"
    placeholder = dataclasses.replace(mention("instagram", "m1"), author=IncomingAuthor("unknown:m1"))
    msg = enriched(placeholder, found)
    assert (msg.author.platform_user_id, msg.author.handle, msg.text) == ("unknown:m1", "ana", "look @ourbus")
    assert identified_author("unknown:m1", found) == IncomingAuthor("unknown:m1", handle="ana")


def test_a_message_a_read_shows_we_wrote_is_what_the_webhook_would_have_said() -> None:
    page = "730011223344556"
    found = Enrichment("On it", IncomingAuthor(page), None)
    comment = dataclasses.replace(mention("facebook", "880011_2", in_reply_to="880011_1"), kind="comment")
    ours = as_own(comment, found, page)
    assert isinstance(ours, OwnMessage)
    assert (ours.platform_message_id, ours.in_reply_to, ours.text) == ("880011_2", "880011_1", "On it")
    assert ours.typed_in_platform_inbox and ours.recipient_id is None
    post = dataclasses.replace(mention("facebook", f"{page}_9"), kind="comment")
    assert as_own(post, found, page) == Ignored("facebook", "own_post", page)
    assert as_own(mention("facebook", "44_55"), found, page) == Ignored("facebook", "own_mention", page)


def test_polled_conversations_become_a_webhook_body_of_the_customers_recent_messages() -> None:
    from datetime import UTC, datetime

    from socialdesk_ingest.domain.platforms.meta import parse_meta
    from socialdesk_ingest.domain.platforms.reconcile import conversations_as_delivery

    answer = {
        "data": [
            {
                "id": "t_1",
                "messages": {
                    "data": [
                        {
                            "id": "m_new",
                            "message": "hello?",
                            "from": {"id": "61"},
                            "created_time": "2026-01-01T10:00:00+0000",
                        },
                        {
                            "id": "m_ours",
                            "message": "hi",
                            "from": {"id": "730"},
                            "created_time": "2026-01-01T10:00:01+0000",
                        },
                        {
                            "id": "m_old",
                            "message": "old",
                            "from": {"id": "61"},
                            "created_time": "2025-12-01T10:00:00+0000",
                        },
                        {
                            "message": "no id",
                            "from": {"id": "61"},
                            "created_time": "2026-01-01T10:00:00+0000",
                        },
                    ]
                },
            }
        ]
    }
    since = datetime(2026, 1, 1, tzinfo=UTC)
    body = conversations_as_delivery(answer, platform="messenger", account_id="730", since=since)
    assert body is not None
    (item,) = parse_meta(body).items
    assert item.platform_message_id == "m_new" and item.text == "hello?"  # type: ignore[union-attr]
    assert conversations_as_delivery({"data": []}, platform="instagram", account_id="1", since=since) is None
