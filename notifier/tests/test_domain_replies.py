"""A reply planned within its platform's rules: windows, parts, templates, refusals (no IO)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from socialdesk_notifier.domain.planning import plan_reply
from socialdesk_notifier.domain.replies import (
    Refusal,
    ReplyPlan,
    ReplyRequest,
    delivery_key,
    split_text,
)
from socialdesk_runtime.config import Brand

NOW = datetime(2026, 1, 1, 9, tzinfo=UTC)
V = "v23.0"


def brand(**accounts: Any) -> Brand:
    return Brand.model_validate(
        {"id": "ourbus", "name": "OurBus", "slack_channels": {"L3": "C0LEAD"}, "accounts": accounts}
    )


FULL = brand(
    facebook={"page_id": "730011223344556", "page_token_env": "FB"},
    instagram={"account_id": "17841400000000001", "access_token_env": "IG"},
    whatsapp={
        "phone_number_id": "408877665544332",
        "access_token_env": "WA",
        "out_of_window_template": {"name": "support_followup", "language": "en_US"},
    },
    x={"user_id": "3300112233", "bearer_token_env": "XT"},
)


def req(platform: str, kind: str = "dm", text: str = "Refund issued.", **over: Any) -> ReplyRequest:
    fields: dict[str, Any] = {
        "reply_id": str(uuid.UUID(int=7)),
        "brand": "ourbus",
        "platform": platform,
        "kind": kind,
        "recipient": "4400556677",
        "text": text,
        "in_reply_to": None,
        "origin": "agent",
    }
    return ReplyRequest(**(fields | over))


def plan(request: ReplyRequest, *, age: timedelta | None = timedelta(hours=1), on: Brand = FULL) -> ReplyPlan:
    result = plan_reply(request, on, last_customer_at=None if age is None else NOW - age, now=NOW, version=V)
    assert isinstance(result, ReplyPlan), result
    return result


def refusal(
    request: ReplyRequest, *, age: timedelta | None = timedelta(hours=1), on: Brand = FULL
) -> Refusal:
    result = plan_reply(request, on, last_customer_at=None if age is None else NOW - age, now=NOW, version=V)
    assert isinstance(result, Refusal), result
    return result


def test_messenger_inside_24h_is_a_response_with_our_key_as_metadata() -> None:
    (call,) = plan(req("messenger")).calls
    assert call.path == "/v23.0/730011223344556/messages"
    assert call.body == {
        "recipient": {"id": "4400556677"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Refund issued.", "metadata": f"sd:{uuid.UUID(int=7)}"},
    }


def test_messenger_after_24h_a_human_reply_is_tagged_human_agent_up_to_7_days() -> None:
    (call,) = plan(req("messenger"), age=timedelta(days=3)).calls
    assert (call.body["messaging_type"], call.body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_messenger_past_7_days_is_refused_as_window_closed_without_a_call() -> None:
    assert refusal(req("messenger"), age=timedelta(days=8)).reason == "window_closed"


def test_an_auto_reply_never_uses_the_human_agent_tag() -> None:
    assert refusal(req("messenger", origin="auto_reply"), age=timedelta(hours=30)).reason == "window_closed"


def test_without_the_human_agent_permission_the_window_is_24h() -> None:
    no_tag = brand(facebook={"page_id": "1", "page_token_env": "FB", "human_agent_tag": False})
    assert refusal(req("messenger"), age=timedelta(hours=30), on=no_tag).reason == "window_closed"


def test_an_unknown_last_message_lets_the_platform_judge() -> None:
    assert plan(req("messenger"), age=None).mode == "RESPONSE"


def test_facebook_comment_reply_goes_to_the_comment_edge() -> None:
    (call,) = plan(req("facebook", "comment", in_reply_to="880011_990022")).calls
    assert (call.path, call.body) == ("/v23.0/880011_990022/comments", {"message": "Refund issued."})


def test_facebook_comment_private_reply_where_configured() -> None:
    private = brand(facebook={"page_id": "1", "page_token_env": "FB", "private_comment_replies": True})
    result = plan(req("facebook", "comment", in_reply_to="880011_990022"), on=private)
    assert result.mode == "private_reply"
    assert result.calls[0].body["recipient"] == {"comment_id": "880011_990022"}


def test_instagram_dm_and_comment_reply() -> None:
    (dm,) = plan(req("instagram")).calls
    assert dm.path == "/v23.0/17841400000000001/messages"
    (comment,) = plan(req("instagram", "comment", in_reply_to="18012345678901234")).calls
    assert comment.path == "/v23.0/18012345678901234/replies"


def test_a_comment_reply_without_the_comment_id_is_refused() -> None:
    assert refusal(req("instagram", "comment")).reason == "no_comment"


def test_whatsapp_text_inside_the_window_quotes_and_carries_our_key() -> None:
    (call,) = plan(req("whatsapp", in_reply_to="wamid.In1")).calls
    assert call.body["type"] == "text"
    assert call.body["text"] == {"preview_url": False, "body": "Refund issued."}
    assert call.body["context"] == {"message_id": "wamid.In1"}
    assert call.body["biz_opaque_callback_data"] == f"sd:{uuid.UUID(int=7)}"


def test_whatsapp_to_a_phone_number_or_a_business_scoped_id() -> None:
    (call,) = plan(req("whatsapp")).calls
    assert call.body["to"] == "4400556677" and "recipient" not in call.body
    # A user who withheld their number behind a username is reached by their BSUID.
    (call,) = plan(req("whatsapp", recipient="US.13491208655302741918")).calls
    assert call.body["recipient"] == "US.13491208655302741918" and "to" not in call.body


def test_whatsapp_outside_the_window_sends_the_configured_template_with_its_parameters() -> None:
    result = plan(req("whatsapp"), age=timedelta(hours=25))
    assert result.mode == "template"
    template = result.calls[0].body["template"]
    assert template["name"] == "support_followup"
    assert template["language"] == {"code": "en_US"}
    assert template["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Refund issued."}]}
    ]


def test_whatsapp_outside_the_window_without_a_template_is_a_clear_failure() -> None:
    bare = brand(whatsapp={"phone_number_id": "1", "access_token_env": "WA"})
    result = refusal(req("whatsapp"), age=timedelta(hours=25), on=bare)
    assert result.reason == "window_closed"
    assert "template" in result.detail


def test_x_dm_and_reply_post() -> None:
    (dm,) = plan(req("x")).calls
    assert (dm.api, dm.path, dm.body) == (
        "x",
        "/2/dm_conversations/with/4400556677/messages",
        {"text": "Refund issued."},
    )
    (post,) = plan(req("x", "mention", in_reply_to="2007000000000000001")).calls
    assert post.path == "/2/tweets"
    assert post.body["reply"] == {"in_reply_to_tweet_id": "2007000000000000001"}


def test_a_long_dm_is_split_into_keyed_parts_at_sentence_ends() -> None:
    text = " ".join(f"Sentence number {i} says a little." for i in range(120))
    result = plan(req("messenger", text=text))
    assert len(result.calls) >= 2
    assert all(len(c.body["message"]["text"]) < 2000 for c in result.calls)
    assert [c.key for c in result.calls][:2] == [
        delivery_key(str(uuid.UUID(int=7))),
        f"sd:{uuid.UUID(int=7)}#2",
    ]
    assert all(c.text.endswith(".") for c in result.calls)
    assert " ".join(c.text for c in result.calls) == text


def test_a_too_long_post_or_comment_is_refused_not_cut() -> None:
    result = refusal(req("x", "mention", text="y" * 281, in_reply_to="1"))
    assert result.reason == "too_long"
    assert refusal(req("instagram", "comment", text="y" * 2201, in_reply_to="1")).reason == "too_long"


def test_a_wall_of_text_is_refused_rather_than_sent_in_many_parts() -> None:
    assert refusal(req("instagram", text="word " * 2000)).reason == "too_long"


@pytest.mark.parametrize("platform", ["messenger", "instagram", "whatsapp", "x"])
def test_empty_text_is_refused(platform: str) -> None:
    assert refusal(req(platform, text="   ")).reason == "empty_text"


def test_a_brand_without_the_platform_account_is_refused() -> None:
    assert refusal(req("whatsapp"), on=brand()).reason == "no_account"


def test_split_text_cuts_scripts_without_spaces_hard() -> None:
    text = "あ" * 4500
    parts = split_text(text, 2000)
    assert [len(p) for p in parts] == [2000, 2000, 500]
    assert "".join(parts) == text


def test_a_template_parameter_holds_the_reply_on_one_line_and_within_its_limit() -> None:
    result = plan(req("whatsapp", text="Line one.\n\nLine\ttwo.     End."), age=timedelta(hours=25))
    (parameter,) = result.calls[0].body["template"]["components"][0]["parameters"]
    assert parameter["text"] == "Line one. Line two. End."
    assert refusal(req("whatsapp", text="y" * 1100), age=timedelta(hours=25)).reason == "too_long"


def test_x_dms_and_posts_are_paced_apart() -> None:
    dm = plan(req("x"))
    post = plan(req("x", "mention", in_reply_to="2007000000000000001"))
    assert dm.account != post.account
