"""Comments by our own Page or Instagram account (typed in Meta Business Suite, or the echo
of a reply socialdesk sent) name the message they answer, so extraction can file them on
that message's ticket (decision 0204). Shapes: api-notes 1.3/1.4 and section 2, Meta's
``feed`` and Instagram ``comments`` webhook references."""

from __future__ import annotations

from typing import Any

from socialdesk_ingest.domain.platforms.items import CustomerMessage, OwnMessage
from socialdesk_ingest.domain.platforms.meta import parse_meta

PAGE, IG = "730011223344556", "17841400000000001"


def feed(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [{"id": PAGE, "time": 1767225800, "changes": [{"field": "feed", "value": value}]}],
    }


def ig_comment(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "instagram",
        "entry": [{"id": IG, "time": 1767226100, "changes": [{"field": "comments", "value": value}]}],
    }


def one(body: dict[str, Any]) -> object:
    (item,) = parse_meta(body).items
    return item


def test_the_pages_reply_to_a_customers_comment_names_that_comment() -> None:
    ours = one(
        feed(
            {
                "from": {"id": PAGE, "name": "OurBus"},
                "item": "comment",
                "verb": "add",
                "post_id": f"{PAGE}_880011",
                "comment_id": "880011_990033",
                "parent_id": "880011_990022",
                "created_time": 1767225860,
                "message": "Dana, the refund left today.",
            }
        )
    )
    assert isinstance(ours, OwnMessage)
    assert (ours.platform, ours.kind, ours.platform_message_id) == ("facebook", "comment", "880011_990033")
    assert ours.in_reply_to == "880011_990022" and ours.typed_in_platform_inbox
    assert ours.text == "Dana, the refund left today." and ours.recipient_id is None


def test_the_pages_top_level_comment_answers_the_post_it_is_under() -> None:
    """Under a visitor's post (a customer message keyed by its post id) the Page's first-level
    comment has the post as parent; an older shape without ``parent_id`` names the post only."""
    visitor_post = f"{PAGE}_77"
    value = {
        "from": {"id": PAGE, "name": "OurBus"},
        "item": "comment",
        "verb": "add",
        "post_id": visitor_post,
        "comment_id": "77_5",
        "parent_id": visitor_post,
        "created_time": 1767225860,
        "message": "We are looking into it.",
    }
    ours = one(feed(value))
    assert isinstance(ours, OwnMessage) and ours.in_reply_to == visitor_post
    without_parent = one(feed({k: v for k, v in value.items() if k != "parent_id"}))
    assert isinstance(without_parent, OwnMessage) and without_parent.in_reply_to == visitor_post


def test_our_instagram_reply_names_the_comment_and_a_top_level_one_its_media() -> None:
    reply = one(
        ig_comment(
            {
                "comment_id": "18012345678901299",
                "parent_id": "18012345678901234",
                "from": {"id": IG, "username": "ourbus", "self_ig_scoped_id": "2105722729836161"},
                "text": "@maple_fan yes, from Monday.",
                "media": {"id": "17999888777666555", "media_product_type": "FEED"},
            }
        )
    )
    assert isinstance(reply, OwnMessage) and reply.platform == "instagram"
    assert reply.in_reply_to == "18012345678901234" and reply.typed_in_platform_inbox
    top = one(
        ig_comment(
            {
                "id": "18012345678901300",
                "from": {"id": IG, "username": "ourbus"},
                "text": "New timetable from Monday!",
                "media": {"id": "17999888777666555", "media_product_type": "REELS"},
            }
        )
    )
    assert isinstance(top, OwnMessage) and top.in_reply_to == "17999888777666555"


def test_a_customers_comment_is_still_the_customers() -> None:
    """Only our own account's id makes a comment ours: a customer's reply under our comment is
    a customer message answering it."""
    theirs = one(
        ig_comment(
            {
                "comment_id": "18012345678901301",
                "parent_id": "18012345678901300",
                "from": {"id": "1133557799002244", "username": "maple_fan"},
                "text": "Which stops?",
                "media": {"id": "17999888777666555"},
            }
        )
    )
    assert isinstance(theirs, CustomerMessage) and theirs.in_reply_to == "18012345678901300"


def test_our_instagram_comment_is_ours_in_both_documented_shapes() -> None:
    """Meta marks the professional account's own comment with ``from.self_ig_scoped_id`` (its
    Instagram-scoped id) beside ``from.id``, which is the account id in the self-comment
    example and may be that Instagram-scoped id instead (Instagram Login): ours either way,
    and with ``from.id`` left out too."""
    scoped = "2105722729836161"
    value = {
        "id": "18012345678901302",
        "parent_id": "18012345678901234",
        "text": "@maple_fan yes, from Monday.",
        "media": {"id": "17999888777666555", "media_product_type": "FEED"},
    }
    for author in (
        {"id": IG, "username": "ourbus", "self_ig_scoped_id": scoped},
        {"id": scoped, "username": "ourbus", "self_ig_scoped_id": scoped},
        {"username": "ourbus", "self_ig_scoped_id": scoped},
    ):
        ours = one(ig_comment({**value, "from": author}))
        assert isinstance(ours, OwnMessage), author
        assert (ours.in_reply_to, ours.platform_message_id) == ("18012345678901234", "18012345678901302")


def test_a_scoped_id_that_is_not_the_authors_does_not_make_a_customers_comment_ours() -> None:
    theirs = one(
        ig_comment(
            {
                "id": "18012345678901303",
                "from": {
                    "id": "1133557799002244",
                    "username": "maple_fan",
                    "self_ig_scoped_id": "2105722729836161",
                },
                "text": "Which stops?",
                "media": {"id": "17999888777666555"},
            }
        )
    )
    assert isinstance(theirs, CustomerMessage) and theirs.author.platform_user_id == "1133557799002244"
