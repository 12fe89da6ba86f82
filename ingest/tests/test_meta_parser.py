"""The Meta parsers on the documented shapes (api-notes section 2): Messenger, Page feed,
mentions, Instagram."""

from __future__ import annotations

from datetime import UTC, datetime

from socialdesk_ingest.domain.platforms.items import (
    CustomerMessage,
    DeliveryFact,
    Ignored,
    MessageChanged,
    OwnMessage,
)
from socialdesk_ingest.domain.platforms.meta import parse_meta

PAGE = "730011223344556"


def one(body: dict) -> object:
    (item,) = parse_meta(body).items
    return item


def page(*messaging: dict) -> dict:
    return {"object": "page", "entry": [{"id": PAGE, "time": 1767225600123, "messaging": list(messaging)}]}


def test_messenger_text_is_a_customer_dm() -> None:
    item = one(
        page(
            {
                "sender": {"id": "6123456789012345"},
                "recipient": {"id": PAGE},
                "timestamp": 1767225600050,
                "message": {"mid": "m_Qx7aFake001", "text": "Has order 5512 shipped?"},
            }
        )
    )
    assert isinstance(item, CustomerMessage)
    assert (item.platform, item.kind, item.account_id) == ("messenger", "dm", PAGE)
    assert item.platform_message_id == "m_Qx7aFake001"
    assert item.author.platform_user_id == "6123456789012345"
    assert item.text == "Has order 5512 shipped?"
    assert item.sent_at == datetime(2026, 1, 1, 0, 0, 0, 50000, tzinfo=UTC)


def test_messenger_echo_delivery_read_are_not_customer_messages() -> None:
    items = parse_meta(
        page(
            {
                "sender": {"id": PAGE},
                "recipient": {"id": "6123"},
                "timestamp": 1767225660200,
                "message": {
                    "is_echo": True,
                    "app_id": 987650001234567,
                    "metadata": "sd:delivery-1",
                    "mid": "m_2",
                    "text": "Yes",
                },
            },
            {
                "sender": {"id": "6123"},
                "recipient": {"id": PAGE},
                "delivery": {"mids": ["m_2"], "watermark": 1767225661000},
            },
            {
                "sender": {"id": "6123"},
                "recipient": {"id": PAGE},
                "timestamp": 1767225700400,
                "read": {"watermark": 1767225661000},
            },
            {
                "sender": {"id": PAGE},
                "recipient": {"id": "6123"},
                "timestamp": 1,
                "message": {
                    "is_echo": True,
                    "app_id": 263902037430900,
                    "mid": "m_3",
                    "text": "typed in inbox",
                },
            },
        )
    ).items
    echo, delivered, read, typed = items
    assert (
        isinstance(echo, OwnMessage) and echo.metadata == "sd:delivery-1" and not echo.typed_in_platform_inbox
    )
    assert (
        isinstance(delivered, DeliveryFact)
        and delivered.status == "delivered"
        and delivered.platform_message_ids == ("m_2",)
    )
    assert isinstance(read, DeliveryFact) and read.status == "read" and read.watermark is not None
    assert isinstance(typed, OwnMessage) and typed.typed_in_platform_inbox and typed.recipient_id == "6123"


def test_feed_comment_add_edit_remove_and_own_comment() -> None:
    def feed(value: dict) -> dict:
        return {
            "object": "page",
            "entry": [{"id": PAGE, "time": 1767225800, "changes": [{"field": "feed", "value": value}]}],
        }

    base = {
        "from": {"id": "5550001112223", "name": "Dana Ruiz"},
        "item": "comment",
        "post_id": f"{PAGE}_880011",
        "comment_id": "880011_990022",
        "parent_id": f"{PAGE}_880011",
        "created_time": 1767225799,
    }
    add = one(feed({**base, "verb": "add", "message": "Still no refund?"}))
    assert isinstance(add, CustomerMessage) and add.kind == "comment" and add.platform == "facebook"
    assert (
        add.thread_root == "880011_990022" and add.author.display_name == "Dana Ruiz"
    )  # a top-level comment starts its thread
    reply = one(
        feed(
            {
                **base,
                "verb": "add",
                "comment_id": "880011_990099",
                "parent_id": "880011_990022",
                "message": "+1",
            }
        )
    )
    assert isinstance(reply, CustomerMessage) and reply.thread_root == "880011_990022"
    edited = one(feed({**base, "verb": "edited", "message": "Still no refund??"}))
    assert (
        isinstance(edited, MessageChanged)
        and edited.change == "edited"
        and edited.text == "Still no refund??"
    )
    removed = one(feed({**base, "verb": "remove"}))
    assert isinstance(removed, MessageChanged) and removed.change == "deleted"
    ours = one(feed({**base, "verb": "add", "from": {"id": PAGE, "name": "OurBus"}, "message": "Sorry!"}))
    assert isinstance(ours, OwnMessage)
    reaction = one(
        feed(
            {"item": "reaction", "verb": "add", "from": {"id": "1"}, "post_id": "x", "reaction_type": "like"}
        )
    )
    assert isinstance(reaction, Ignored)


def test_a_feed_item_whose_author_meta_withheld_is_kept_for_enrichment() -> None:
    """No ``from`` (the commenter's privacy): kept under a placeholder of that item alone,
    read from the Graph API later; two such people never become one customer."""

    def feed(value: dict) -> dict:
        return {
            "object": "page",
            "entry": [{"id": PAGE, "time": 1767225800, "changes": [{"field": "feed", "value": value}]}],
        }

    comment = {"item": "comment", "verb": "add", "post_id": f"{PAGE}_880011", "created_time": 1767225799}
    first = one(feed({**comment, "comment_id": "880011_1", "message": "bus never came"}))
    second = one(feed({**comment, "comment_id": "880011_2", "message": "same here"}))
    assert isinstance(first, CustomerMessage) and isinstance(second, CustomerMessage)
    assert first.needs_enrichment and first.text == "bus never came"
    assert first.author.platform_user_id != second.author.platform_user_id
    assert first.author.platform_user_id == "unknown:880011_1"
    # the older sender_id / sender_name shape names the author
    legacy = one(feed({**comment, "comment_id": "880011_3", "sender_id": "42", "sender_name": "Ana"}))
    assert isinstance(legacy, CustomerMessage) and not legacy.needs_enrichment
    assert (legacy.author.platform_user_id, legacy.author.display_name) == ("42", "Ana")
    # ... and the Page itself in that shape is still the Page's own
    assert isinstance(one(feed({**comment, "comment_id": "880011_4", "sender_id": PAGE})), OwnMessage)
    own_post = one(feed({"item": "status", "verb": "add", "post_id": f"{PAGE}_78", "sender_id": PAGE}))
    assert isinstance(own_post, Ignored) and own_post.reason == "own_post"
    # a visitor's post without from is a customer's too, not taken for the Page's own
    post = one(feed({"item": "status", "verb": "add", "post_id": f"{PAGE}_77", "message": "refund?"}))
    assert isinstance(post, CustomerMessage) and post.needs_enrichment
    edited = one(feed({"item": "status", "verb": "edit", "post_id": f"{PAGE}_77", "message": "refund??"}))
    assert isinstance(edited, MessageChanged) and edited.change == "edited"


def test_a_comment_naming_the_page_under_its_own_post_is_taken_from_the_feed() -> None:
    """Delivered as a mention and as a feed comment; the feed copy has its thread, so the
    mention copy steps aside (whichever came first would otherwise win the dedup)."""

    def mention(post_id: str) -> dict:
        value = {"item": "comment", "verb": "add", "comment_id": "c9", "post_id": post_id, "sender_id": "42"}
        return {
            "object": "page",
            "entry": [{"id": PAGE, "time": 1, "changes": [{"field": "mention", "value": value}]}],
        }

    own = one(mention(f"{PAGE}_880011"))
    assert isinstance(own, Ignored) and own.reason == "mention_in_own_feed"
    elsewhere = one(mention("99887766_1"))  # under another Page's post: only the mention tells us
    assert isinstance(elsewhere, CustomerMessage) and elsewhere.kind == "mention"


def test_page_mention_needs_enrichment() -> None:
    item = one(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "time": 1767225900,
                    "changes": [
                        {
                            "field": "mention",
                            "value": {
                                "item": "post",
                                "verb": "add",
                                "post_id": "4400112233_5566778899",
                                "sender_id": "4400112233",
                                "sender_name": "Lee Park",
                            },
                        }
                    ],
                }
            ],
        }
    )
    assert isinstance(item, CustomerMessage) and item.kind == "mention" and item.needs_enrichment
    assert item.platform_message_id == "4400112233_5566778899"


def test_instagram_dm_comment_both_id_spellings_and_mention() -> None:
    ig = "17841400000000001"
    dm = one(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": ig,
                    "time": 1767226000456,
                    "messaging": [
                        {
                            "sender": {"id": "1133557799002244"},
                            "recipient": {"id": ig},
                            "timestamp": 1767226000400,
                            "message": {"mid": "aWdfFakeMid01", "text": "Ship to Canada?"},
                        }
                    ],
                }
            ],
        }
    )
    assert isinstance(dm, CustomerMessage) and (dm.platform, dm.kind) == ("instagram", "dm")

    def changes(*c: dict) -> dict:
        return {"object": "instagram", "entry": [{"id": ig, "time": 1767226100, "changes": list(c)}]}

    top, reply, mention = parse_meta(
        changes(
            {
                "field": "comments",
                "value": {
                    "id": "18012345678901234",
                    "from": {"id": "1133", "username": "maple_fan"},
                    "text": "Price?",
                    "media": {"id": "17999888777666555", "media_product_type": "FEED"},
                },
            },
            {
                "field": "comments",
                "value": {
                    "comment_id": "18012345678901235",
                    "parent_id": "18012345678901234",
                    "from": {"id": "1133", "username": "maple_fan"},
                    "text": "Hello?",
                    "media": {"id": "17999888777666555"},
                },
            },
            {
                "field": "mentions",
                "value": {"comment_id": "18023456789012345", "media_id": "17955544433322211"},
            },
        )
    ).items
    assert (
        isinstance(top, CustomerMessage)
        and top.platform_message_id == "18012345678901234"
        and top.author.handle == "maple_fan"
    )
    assert isinstance(reply, CustomerMessage) and reply.platform_message_id == "18012345678901235"
    assert (
        reply.in_reply_to == "18012345678901234"
        and reply.thread_root == top.thread_root == "18012345678901234"
    )
    assert isinstance(mention, CustomerMessage) and mention.kind == "mention" and mention.needs_enrichment


def test_instagram_deleted_message() -> None:
    ig = "178"
    item = one(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": ig,
                    "time": 1,
                    "messaging": [
                        {
                            "sender": {"id": "5"},
                            "recipient": {"id": ig},
                            "timestamp": 1,
                            "message": {"mid": "m1", "is_deleted": True},
                        }
                    ],
                }
            ],
        }
    )
    assert isinstance(item, MessageChanged) and item.change == "deleted"
