"""The platform parsers on the documented shapes (api-notes section 2), and fuzzed: no
body makes a parser raise."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk_ingest.domain.platforms.items import (
    CustomerMessage,
    DeliveryFact,
    Ignored,
    MessageChanged,
    OwnMessage,
    Skipped,
)
from socialdesk_ingest.domain.platforms.meta import parse_meta
from socialdesk_ingest.domain.platforms.signatures import (
    meta_signature,
    verify_meta,
    verify_x,
    x_crc_response,
    x_signature,
)
from socialdesk_ingest.domain.platforms.x import parse_x

PAGE = "730011223344556"
#: ``INGEST_FUZZ_EXAMPLES=50000`` for the issue's 100k generated bodies (two tests); a few
#: thousand in the default suite keeps it fast.
FUZZ_EXAMPLES = int(os.environ.get("INGEST_FUZZ_EXAMPLES", "1000"))


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


def wa(value: dict, field: str = "messages") -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "301122334455667",
                "changes": [
                    {
                        "field": field,
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15557650100",
                                "phone_number_id": "408877665544332",
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def test_whatsapp_text_media_location_and_statuses() -> None:
    items = parse_meta(
        wa(
            {
                "contacts": [{"profile": {"name": "Priya N"}, "wa_id": "447700900123"}],
                "messages": [
                    {
                        "from": "447700900123",
                        "id": "wamid.In01",
                        "timestamp": "1767225600",
                        "type": "text",
                        "text": {"body": "Where is order 5512?"},
                    },
                    {
                        "from": "447700900123",
                        "id": "wamid.In02",
                        "timestamp": "1767225601",
                        "type": "image",
                        "image": {"id": "media-1", "mime_type": "image/jpeg"},
                    },
                    {
                        "from": "447700900123",
                        "id": "wamid.In03",
                        "timestamp": "1767225602",
                        "type": "location",
                        "location": {"latitude": 40.75, "longitude": -73.99, "name": "Port Authority"},
                    },
                    {
                        "from": "447700900123",
                        "id": "wamid.In04",
                        "timestamp": "1767225603",
                        "type": "reaction",
                        "reaction": {"message_id": "x", "emoji": "👍"},
                    },
                ],
            }
        )
    ).items
    text, image, location, reaction = items
    assert (
        isinstance(text, CustomerMessage)
        and text.account_id == "408877665544332"
        and text.author.display_name == "Priya N"
    )
    assert text.sent_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert (
        isinstance(image, CustomerMessage)
        and image.text == "[image]"
        and image.attachments[0].id == "media-1"
    )
    assert isinstance(location, CustomerMessage) and location.text.startswith("[location: Port Authority")
    assert isinstance(reaction, Ignored)
    failed, read = parse_meta(
        wa(
            {
                "statuses": [
                    {
                        "id": "wamid.Out02",
                        "status": "failed",
                        "timestamp": "1767312000",
                        "recipient_id": "447700900123",
                        "errors": [{"code": 131047, "title": "Window closed"}],
                    },
                    {
                        "id": "wamid.Out01",
                        "status": "read",
                        "timestamp": "1767225760",
                        "recipient_id": "447700900123",
                    },
                ]
            }
        )
    ).items
    assert isinstance(failed, DeliveryFact) and failed.status == "failed" and failed.error_code == 131047
    assert isinstance(read, DeliveryFact) and read.status == "read"
    (echo,) = parse_meta(
        wa(
            {
                "message_echoes": [
                    {
                        "from": "15557650100",
                        "to": "447700900123",
                        "id": "wamid.E1",
                        "timestamp": "1767225700",
                        "type": "text",
                        "text": {"body": "hi"},
                    }
                ]
            },
            field="smb_message_echoes",
        )
    ).items
    assert isinstance(echo, OwnMessage) and echo.typed_in_platform_inbox


def test_item_missing_fields_is_skipped_and_the_rest_read() -> None:
    items = parse_meta(
        page(
            {"sender": {"id": "1"}, "recipient": {"id": PAGE}, "timestamp": 1, "message": {"text": "no mid"}},
            {
                "sender": {"id": "2"},
                "recipient": {"id": PAGE},
                "timestamp": 1,
                "message": {"mid": "m_ok", "text": "fine"},
            },
        )
    ).items
    assert isinstance(items[0], Skipped) and isinstance(items[1], CustomerMessage)


def test_unknown_object_and_field_are_ignored() -> None:
    assert isinstance(one({"object": "user", "entry": []}), Ignored)
    assert parse_meta({"object": "page", "entry": []}).items == []
    item = one(
        {"object": "page", "entry": [{"id": PAGE, "time": 1, "changes": [{"field": "ratings", "value": {}}]}]}
    )
    assert isinstance(item, Ignored) and item.reason == "unknown_field:ratings"


def test_x_dm_mention_own_and_favourite() -> None:
    dm = {
        "for_user_id": "3300112233",
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "2007000000000000101",
                "created_timestamp": "1767225600000",
                "message_create": {
                    "target": {"recipient_id": "3300112233"},
                    "sender_id": "4400556677",
                    "source_app_id": "5566001",
                    "message_data": {"text": "Refund please"},
                },
            }
        ],
        "users": {
            "4400556677": {
                "id": "4400556677",
                "name": "Sam Ortiz",
                "screen_name": "samo",
                "followers_count": 12,
            }
        },
    }
    (item,) = parse_x(dm).items
    assert isinstance(item, CustomerMessage) and (item.platform, item.kind) == ("x", "dm")
    assert item.author.handle == "samo" and item.author.followers == 12 and item.text == "Refund please"
    own = json.loads(json.dumps(dm))
    own["direct_message_events"][0]["message_create"]["sender_id"] = "3300112233"
    assert isinstance(parse_x(own).items[0], OwnMessage)
    mention = {
        "for_user_id": "3300112233",
        "user_has_blocked": "false",
        "tweet_create_events": [
            {
                "created_at": "Thu Jan 01 09:15:00 +0000 2026",
                "id": 2007000000000000001,
                "id_str": "2007000000000000001",
                "text": "@AcmeHelp parcel lost",
                "in_reply_to_status_id_str": None,
                "user": {
                    "id": 4400556677,
                    "id_str": "4400556677",
                    "name": "Sam Ortiz",
                    "screen_name": "samo",
                },
                "timestamp_ms": "1767258900000",
            }
        ],
    }
    (m,) = parse_x(mention).items
    assert (
        isinstance(m, CustomerMessage)
        and m.kind == "mention"
        and m.platform_message_id == "2007000000000000001"
    )
    assert m.sent_at == datetime(2026, 1, 1, 9, 15, tzinfo=UTC)
    (fav,) = parse_x({"for_user_id": "3300112233", "favorite_events": [{"id": "f"}]}).items
    assert isinstance(fav, Ignored)


def test_signatures() -> None:
    raw = b'{"a":"caf\\u00e9"}'
    assert verify_meta(raw, meta_signature(raw, "s2"), ["s1", "s2"])
    assert not verify_meta(raw, meta_signature(raw, "nope"), ["s1", "s2"])
    assert not verify_meta(raw, None, ["s1"]) and not verify_meta(raw, "sha1=abc", ["s1"])
    assert verify_x(raw, x_signature(raw, "c"), ["c"]) and not verify_x(
        raw + b" ", x_signature(raw, "c"), ["c"]
    )
    # The documented CRC example's shape: sha256= + standard padded base64.
    assert x_crc_response("token", "secret").startswith("sha256=") and x_crc_response(
        "token", "secret"
    ).endswith("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "object",
                    "entry",
                    "id",
                    "time",
                    "messaging",
                    "changes",
                    "field",
                    "value",
                    "message",
                    "mid",
                    "text",
                    "sender",
                    "recipient",
                    "timestamp",
                    "from",
                    "item",
                    "verb",
                    "comment_id",
                    "post_id",
                    "metadata",
                    "phone_number_id",
                    "messages",
                    "statuses",
                    "type",
                    "for_user_id",
                    "direct_message_events",
                    "tweet_create_events",
                    "message_create",
                    "sender_id",
                    "users",
                    "id_str",
                    "user",
                    "is_echo",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.sampled_from(["page", "instagram", "whatsapp_business_account", 5, None]), json_values)
def test_meta_parser_never_raises(obj: object, entry: object) -> None:
    parse_meta({"object": obj, "entry": entry if isinstance(entry, list) else [entry]})


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(json_values)
def test_x_parser_never_raises(body: object) -> None:
    parse_x(body if not isinstance(body, dict) else {"for_user_id": "1", **body})
