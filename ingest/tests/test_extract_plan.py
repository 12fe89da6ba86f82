"""The plan of a parsed delivery: brands by account, facts, counted reasons (pure)."""

from __future__ import annotations

from socialdesk_ingest.domain.platforms import AccountIndex, CustomerMessage, OwnMessage, parse_x, plan

X_USER, APP = "3300112233", "5566001"
ACCOUNTS = AccountIndex({("x", X_USER): "ourbus"}, frozenset({APP}))


def dm(sender: str, app: str | None) -> dict[str, object]:
    mc: dict[str, object] = {
        "target": {"recipient_id": "44"},
        "sender_id": sender,
        "message_data": {"text": "hi"},
    }
    if app:
        mc["source_app_id"] = app
    return {
        "for_user_id": X_USER,
        "direct_message_events": [
            {"type": "message_create", "id": "d1", "created_timestamp": "1767225600000", "message_create": mc}
        ],
    }


def test_our_x_apps_dm_is_our_echo_and_another_is_typed_in_x() -> None:
    ours = plan(parse_x(dm(X_USER, APP)).items, ACCOUNTS).facts[0].item
    typed = plan(parse_x(dm(X_USER, "999")).items, ACCOUNTS).facts[0].item
    assert isinstance(ours, OwnMessage) and not ours.typed_in_platform_inbox
    assert isinstance(typed, OwnMessage) and typed.typed_in_platform_inbox


def test_unknown_account_and_reasons_are_counted() -> None:
    p = plan(parse_x({**dm("44", None), "for_user_id": "999"}).items, ACCOUNTS)
    assert p.customer == [] and p.not_ticketed == [("x", "unknown_account")]
    fav = plan(parse_x({"for_user_id": X_USER, "favorite_events": [{}]}).items, ACCOUNTS)
    assert fav.not_ticketed == [("x", "favorite")]
    customer = plan(parse_x(dm("44", None)).items, ACCOUNTS)
    assert isinstance(parse_x(dm("44", None)).items[0], CustomerMessage)
    assert customer.customer[0].brand == "ourbus"
