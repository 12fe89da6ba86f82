"""The WhatsApp parser on the documented shapes, and what every Meta delivery shares:
broken items skipped alone, unknown objects and fields ignored."""

from __future__ import annotations

from datetime import UTC, datetime

from socialdesk_ingest.domain.platforms.extract import incoming
from socialdesk_ingest.domain.platforms.items import (
    CustomerMessage,
    DeliveryFact,
    Ignored,
    OwnMessage,
    Skipped,
)
from socialdesk_ingest.domain.platforms.meta import parse_meta

PAGE = "730011223344556"


def one(body: dict) -> object:
    (item,) = parse_meta(body).items
    return item


def page(*messaging: dict) -> dict:
    return {"object": "page", "entry": [{"id": PAGE, "time": 1767225600123, "messaging": list(messaging)}]}


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


def test_a_user_who_withheld_their_number_is_kept_under_their_business_scoped_id() -> None:
    """Usernames (2026): no ``from``, the contact carries only ``user_id`` (a BSUID)."""
    bsuid = "US.13491208655302741918"
    item = one(
        wa(
            {
                "contacts": [{"profile": {"name": "Jo", "username": "@jo.rides"}, "user_id": bsuid}],
                "messages": [
                    {
                        "id": "wamid.Bs01",
                        "timestamp": "1767225600",
                        "type": "text",
                        "text": {"body": "is the 3pm running?"},
                    }
                ],
            }
        )
    )
    assert isinstance(item, CustomerMessage)
    assert (item.author.platform_user_id, item.author.handle, item.author.display_name) == (
        bsuid,
        "@jo.rides",
        "Jo",
    )
    assert item.text == "is the 3pm running?"
    # Named on the message itself, it wins over the contacts block.
    item = one(
        wa(
            {
                "contacts": [
                    {"profile": {"name": "A"}, "user_id": "US.1"},
                    {"profile": {}, "user_id": "US.2"},
                ],
                "messages": [
                    {"from_user_id": "US.2", "id": "wamid.Bs02", "type": "text", "text": {"body": "hi"}}
                ],
            }
        )
    )
    assert isinstance(item, CustomerMessage) and item.author.platform_user_id == "US.2"
    # Two contacts and no sender named: whose it is cannot be told, so it is skipped, counted.
    item = one(
        wa(
            {
                "contacts": [{"user_id": "US.1"}, {"user_id": "US.2"}],
                "messages": [{"id": "wamid.Bs03", "type": "text", "text": {"body": "hi"}}],
            }
        )
    )
    assert isinstance(item, Skipped)


def test_a_user_known_by_phone_carries_their_business_scoped_id_as_an_alias() -> None:
    bsuid = "US.13491208655302741918"
    item = one(
        wa(
            {
                "contacts": [{"profile": {"name": "Jo"}, "wa_id": "447700900123", "user_id": bsuid}],
                "messages": [
                    {"from": "447700900123", "id": "wamid.A1", "type": "text", "text": {"body": "hi"}}
                ],
            }
        )
    )
    assert isinstance(item, CustomerMessage)
    assert (item.author.platform_user_id, item.author.alias) == ("447700900123", bsuid)
    status = one(
        wa({"statuses": [{"id": "wamid.O1", "status": "read", "timestamp": "1", "recipient_user_id": bsuid}]})
    )
    assert isinstance(status, DeliveryFact) and status.recipient_id == bsuid


def test_a_flow_form_and_other_interactive_answers_are_readable() -> None:
    def interactive(body: dict) -> object:
        return one(
            wa(
                {
                    "contacts": [{"wa_id": "447700900123"}],
                    "messages": [
                        {"from": "447700900123", "id": "wamid.F1", "type": "interactive", "interactive": body}
                    ],
                }
            )
        )

    form = interactive(
        {
            "type": "nfm_reply",
            "nfm_reply": {
                "name": "flow",
                "body": "Sent",
                "response_json": '{"flow_token": "tok-1", "booking": "OB-5512", "seats": 2, "issue": "bus late"}',
            },
        }
    )
    assert isinstance(form, CustomerMessage)
    assert form.text == "[form] booking: OB-5512; seats: 2; issue: bus late"
    broken = interactive({"type": "nfm_reply", "nfm_reply": {"body": "Sent", "response_json": "{not json"}})
    assert isinstance(broken, CustomerMessage) and broken.text == "[form] Sent"
    call = interactive({"type": "call_permission_reply", "call_permission_reply": {"response": "accept"}})
    assert isinstance(call, CustomerMessage) and call.text == "[call_permission_reply reply: accept]"


def test_a_business_scoped_id_is_never_read_as_a_phone_number() -> None:
    def author(sender: str) -> object:
        item = one(
            wa({"messages": [{"from": sender, "id": "wamid.P", "type": "text", "text": {"body": "x"}}]})
        )
        assert isinstance(item, CustomerMessage)
        return incoming(item, "ourbus").author

    assert author("447700900123").phone == "447700900123"  # the same-phone rule links by it
    assert author("US.1349120865530274").phone is None
