"""Our public comment reply told apart from the others a comment lists (no IO)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from socialdesk_notifier.domain.comment_lookup import (
    META_CLOCK_SKEW,
    ListedComment,
    after_cursor,
    comment_lookup,
    listed_comments,
    our_reply,
    reaches_before,
)
from socialdesk_notifier.domain.planning import plan_reply
from socialdesk_notifier.domain.replies import ReplyPlan, ReplyRequest
from socialdesk_runtime.config import Brand

PAGE, IG, CUSTOMER, OTHER_PAGE = "730011223344556", "17841400000000001", "5550001112223", "999000111222333"
SINCE = datetime(2026, 1, 1, 9, tzinfo=UTC)
TEXT = "Your bus leaves at 9:15 from gate 4."


def comment(
    id_: str, *, by: str | None = PAGE, text: str = TEXT, at: datetime | None = SINCE + timedelta(seconds=3)
) -> ListedComment:
    return ListedComment(id_, text, by, at)


def ours(*listed: ListedComment, taken: frozenset[str] = frozenset()) -> str | None:
    return our_reply(listed, account=PAGE, text=TEXT, since=SINCE, taken=taken)


def test_our_reply_is_found_by_author_and_text() -> None:
    assert ours(comment("c1")) == "c1"


def test_a_customer_writing_the_same_text_is_not_us() -> None:
    assert ours(comment("c1", by=CUSTOMER)) is None
    assert ours(comment("c1", by=CUSTOMER), comment("c2")) == "c2"


def test_another_pages_reply_is_not_ours() -> None:
    assert ours(comment("c1", by=OTHER_PAGE)) is None
    assert ours(comment("c1", by=None)) is None


def test_a_reply_older_than_the_delivery_is_not_this_attempt() -> None:
    assert ours(comment("c1", at=SINCE - META_CLOCK_SKEW - timedelta(seconds=1))) is None
    assert ours(comment("c1", at=SINCE - META_CLOCK_SKEW)) == "c1", "Meta's clock may be behind ours"
    assert ours(comment("c1", at=None)) is None, "a reply that cannot be placed in time is not counted"


@pytest.mark.parametrize(
    "listed_text", ["  Your bus leaves at 9:15 from gate 4.\n", "Your bus  leaves at 9:15\nfrom gate 4."]
)
def test_whitespace_meta_trimmed_or_folded_still_matches(listed_text: str) -> None:
    assert ours(comment("c1", text=listed_text)) == "c1"


def test_a_different_text_is_another_reply() -> None:
    assert ours(comment("c1", text="Your bus leaves at 9:45 from gate 4.")) is None
    assert ours(comment("c1", text="your bus leaves at 9:15 from gate 4.")) is None


def test_a_reply_recorded_for_another_delivery_is_not_claimed_twice() -> None:
    assert ours(comment("c1"), taken=frozenset({"c1"})) is None


def test_of_several_ours_the_earliest_is_the_first_attempt() -> None:
    later = comment("c9", at=SINCE + timedelta(seconds=60))
    assert ours(later, comment("c1")) == "c1"


def test_facebook_and_instagram_listings_are_read_alike() -> None:
    facebook: dict[str, Any] = {
        "data": [
            {
                "id": "880011_990033",
                "message": TEXT,
                "from": {"id": PAGE, "name": "OurBus"},
                "created_time": "2026-01-01T09:00:03+0000",
            },
            {"message": "no id: skipped"},
        ],
        "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}, "next": "https://graph/next"},
    }
    instagram: dict[str, Any] = {
        "data": [
            {
                "id": "18034567890123456",
                "text": TEXT,
                "username": "ourbus",
                "from": {"id": IG, "username": "ourbus"},
                "timestamp": "2026-01-01T09:00:03+0000",
            }
        ],
        "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}},
    }
    at = SINCE + timedelta(seconds=3)
    assert listed_comments(facebook) == [ListedComment("880011_990033", TEXT, PAGE, at)]
    assert listed_comments(instagram) == [ListedComment("18034567890123456", TEXT, IG, at)]
    assert after_cursor(facebook) == "QVFJ"
    assert after_cursor(instagram) is None, "no next page: the cursor leads nowhere"
    assert listed_comments({"error": {"code": 1}}) == []


def test_a_newest_first_page_reaching_before_the_window_ends_the_search() -> None:
    assert not reaches_before([comment("c1")], SINCE)
    assert reaches_before([comment("c1"), comment("c0", at=SINCE - timedelta(hours=1))], SINCE)


FULL = Brand.model_validate(
    {
        "id": "ourbus",
        "name": "OurBus",
        "slack_channels": {"L3": "C0LEAD"},
        "accounts": {
            "facebook": {"page_id": PAGE, "page_token_env": "FB"},
            "instagram": {"account_id": IG, "access_token_env": "IG"},
            "x": {"user_id": "3300112233", "bearer_token_env": "XT"},
        },
    }
)


def plan(
    platform: str, kind: str, in_reply_to: str | None, on: Brand = FULL
) -> tuple[ReplyRequest, ReplyPlan]:
    request = ReplyRequest(
        str(uuid.UUID(int=7)), "ourbus", platform, kind, CUSTOMER, f" {TEXT} ", in_reply_to, "agent"
    )
    result = plan_reply(request, on, last_customer_at=None, now=SINCE, version="v23.0")
    assert isinstance(result, ReplyPlan), result
    return request, result


def test_lookups_ask_the_edge_we_posted_to_for_our_account() -> None:
    facebook = comment_lookup(*plan("facebook", "comment", "880011_990022"))
    assert facebook is not None
    assert (facebook.path, facebook.account, facebook.text) == ("/v23.0/880011_990022/comments", PAGE, TEXT)
    assert dict(facebook.params) == {
        "fields": "id,message,from,created_time",
        "order": "reverse_chronological",
        "limit": "100",
    }
    assert facebook.newest_first
    instagram = comment_lookup(*plan("instagram", "comment", "18012345678901234"))
    assert instagram is not None
    assert (instagram.path, instagram.account) == ("/v23.0/18012345678901234/replies", IG)
    assert dict(instagram.params) == {"fields": "id,text,from,username,timestamp"}
    assert not instagram.newest_first


def test_messages_private_replies_and_x_posts_are_not_looked_up() -> None:
    assert comment_lookup(*plan("messenger", "dm", None)) is None
    assert comment_lookup(*plan("x", "mention", "2007000000000000001")) is None
    private = Brand.model_validate(
        FULL.model_dump()
        | {
            "accounts": {
                "facebook": {"page_id": PAGE, "page_token_env": "FB", "private_comment_replies": True}
            }
        }
    )
    assert comment_lookup(*plan("facebook", "comment", "880011_990022", on=private)) is None
