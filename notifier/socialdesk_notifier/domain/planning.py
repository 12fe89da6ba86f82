"""The calls that deliver a reply on each platform (api-notes §3), or why none will be made.

Usage::

    plan = plan_reply(request, brand, last_customer_at=seen, now=now, version="v23.0")
    if isinstance(plan, Refusal): ...      # DeliveryFailed(reason=plan.reason)
    for call in plan.calls: ...            # POST call.path with call.body
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socialdesk_notifier.domain.replies import (
    RESPONSE_WINDOW,
    Mode,
    PlannedCall,
    Refusal,
    ReplyPlan,
    ReplyRequest,
    delivery_key,
    no_account,
    reply_parts,
    window_mode,
)
from socialdesk_runtime.config import Brand

__all__ = ["TEMPLATE_PARAMETER_LIMIT", "plan_reply"]

TEMPLATE_PARAMETER_LIMIT = 1024


def plan_reply(
    request: ReplyRequest, brand: Brand, *, last_customer_at: datetime | None, now: datetime, version: str
) -> ReplyPlan | Refusal:
    """The calls that deliver ``request`` for ``brand``, or why none will be made."""
    match (request.platform, request.kind):
        case ("messenger", _) | ("facebook", "dm"):
            return _messenger(request, brand, last_customer_at, now, version)
        case ("facebook", _):
            return _facebook_comment(request, brand, version)
        case ("instagram", "dm"):
            return _instagram_dm(request, brand, last_customer_at, now, version)
        case ("instagram", _):
            return _instagram_comment(request, brand, version)
        case ("whatsapp", _):
            return _whatsapp(request, brand, last_customer_at, now, version)
        case ("x", "dm"):
            return _x_dm(request, brand)
        case ("x", _):
            return _x_mention(request, brand)
    return Refusal("unsupported", f"no send API for {request.platform} {request.kind}")


def _messaging_body(recipient: str, text: str, mode: Mode, key: str) -> dict[str, Any]:
    body: dict[str, Any] = {"recipient": {"id": recipient}, "message": {"text": text, "metadata": key}}
    if mode == "HUMAN_AGENT":
        body |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    else:
        body["messaging_type"] = "RESPONSE"
    return body


def _messaging_call(path: str, request: ReplyRequest, text: str, mode: Mode, part: int) -> PlannedCall:
    key = delivery_key(request.reply_id, part)
    return PlannedCall("graph", path, _messaging_body(request.recipient, text, mode, key), key, text)


def _send_api_dm(
    request: ReplyRequest,
    surface: str,
    account_id: str,
    token_env: str | None,
    human_agent_tag: bool,
    last: datetime | None,
    now: datetime,
    version: str,
) -> ReplyPlan | Refusal:
    """A Messenger or Instagram DM: the same Send API, window rules and parts."""
    mode = window_mode(request, last, now, human_agent_tag=human_agent_tag)
    if isinstance(mode, Refusal):
        return mode
    parts = reply_parts(request, (surface, "dm"))
    if isinstance(parts, Refusal):
        return parts
    path = f"/{version}/{account_id}/messages"
    calls = [_messaging_call(path, request, text, mode, i) for i, text in enumerate(parts)]
    return ReplyPlan(calls, mode, account_id, token_env)


def _messenger(
    request: ReplyRequest, brand: Brand, last: datetime | None, now: datetime, version: str
) -> ReplyPlan | Refusal:
    account = brand.accounts.facebook
    if account is None:
        return no_account(request)
    return _send_api_dm(
        request,
        "messenger",
        account.page_id,
        account.page_token_env,
        account.human_agent_tag,
        last,
        now,
        version,
    )


def _facebook_comment(request: ReplyRequest, brand: Brand, version: str) -> ReplyPlan | Refusal:
    account = brand.accounts.facebook
    if account is None:
        return no_account(request)
    if not request.in_reply_to:
        return Refusal("no_comment", "a comment reply needs the customer's comment id")
    key = delivery_key(request.reply_id)
    if account.private_comment_replies:
        parts = reply_parts(request, ("facebook", "private_reply"))
        if isinstance(parts, Refusal):
            return parts
        body = {
            "recipient": {"comment_id": request.in_reply_to},
            "message": {"text": parts[0], "metadata": key},
        }
        call = PlannedCall("graph", f"/{version}/{account.page_id}/messages", body, key, parts[0])
        return ReplyPlan([call], "private_reply", account.page_id, account.page_token_env)
    parts = reply_parts(request, ("facebook", "comment"))
    if isinstance(parts, Refusal):
        return parts
    call = PlannedCall(
        "graph", f"/{version}/{request.in_reply_to}/comments", {"message": parts[0]}, key, parts[0]
    )
    return ReplyPlan([call], "public", account.page_id, account.page_token_env)


def _instagram_dm(
    request: ReplyRequest, brand: Brand, last: datetime | None, now: datetime, version: str
) -> ReplyPlan | Refusal:
    account = brand.accounts.instagram
    if account is None:
        return no_account(request)
    return _send_api_dm(
        request,
        "instagram",
        account.account_id,
        account.access_token_env,
        account.human_agent_tag,
        last,
        now,
        version,
    )


def _instagram_comment(request: ReplyRequest, brand: Brand, version: str) -> ReplyPlan | Refusal:
    account = brand.accounts.instagram
    if account is None:
        return no_account(request)
    if not request.in_reply_to:
        return Refusal("no_comment", "a comment reply needs the customer's comment id")
    parts = reply_parts(request, ("instagram", "comment"))
    if isinstance(parts, Refusal):
        return parts
    key = delivery_key(request.reply_id)
    call = PlannedCall(
        "graph", f"/{version}/{request.in_reply_to}/replies", {"message": parts[0]}, key, parts[0]
    )
    return ReplyPlan([call], "public", account.account_id, account.access_token_env)


def _whatsapp(
    request: ReplyRequest, brand: Brand, last: datetime | None, now: datetime, version: str
) -> ReplyPlan | Refusal:
    account = brand.accounts.whatsapp
    if account is None:
        return no_account(request)
    path = f"/{version}/{account.phone_number_id}/messages"
    # A phone number goes in "to"; a business-scoped user id (a user who withheld their
    # number behind a username: letters and dots) in "recipient".
    address = "to" if request.recipient.lstrip("+").isdigit() else "recipient"
    base: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        address: request.recipient,
    }
    if not request.text.strip():
        return Refusal("empty_text", "the reply has no text")
    if last is not None and now - last > RESPONSE_WINDOW:
        template = account.out_of_window_template
        if template is None:
            return Refusal(
                "window_closed",
                "outside WhatsApp's 24 h customer-service window and no out_of_window_template is configured",
            )
        # A template parameter may hold no newline or tab and no run of spaces (WhatsApp
        # refuses it with 132018), and at most TEMPLATE_PARAMETER_LIMIT characters.
        values = {"reply_text": " ".join(request.text.split()), "brand_name": brand.name}
        parameters = [{"type": "text", "text": values.get(p, p)} for p in template.parameters]
        if any(len(p["text"]) > TEMPLATE_PARAMETER_LIMIT for p in parameters):
            return Refusal(
                "too_long",
                f"outside the 24 h window the reply goes in template {template.name!r}, whose "
                f"parameters hold at most {TEMPLATE_PARAMETER_LIMIT} characters",
            )
        key = delivery_key(request.reply_id)
        body = base | {
            "type": "template",
            "biz_opaque_callback_data": key,
            "template": {
                "name": template.name,
                "language": {"code": template.language},
                "components": [{"type": "body", "parameters": parameters}] if parameters else [],
            },
        }
        return ReplyPlan(
            [PlannedCall("graph", path, body, key, request.text.strip())],
            "template",
            account.phone_number_id,
            account.access_token_env,
        )
    parts = reply_parts(request, ("whatsapp", "dm"))
    if isinstance(parts, Refusal):
        return parts
    calls = []
    for i, text in enumerate(parts):
        key = delivery_key(request.reply_id, i)
        body = base | {
            "type": "text",
            "biz_opaque_callback_data": key,
            "text": {"preview_url": False, "body": text},
        }
        if i == 0 and request.in_reply_to:
            body["context"] = {"message_id": request.in_reply_to}
        calls.append(PlannedCall("graph", path, body, key, text))
    return ReplyPlan(calls, "RESPONSE", account.phone_number_id, account.access_token_env)


def _x_dm(request: ReplyRequest, brand: Brand) -> ReplyPlan | Refusal:
    account = brand.accounts.x
    if account is None:
        return no_account(request)
    if not request.recipient.isdigit():
        return Refusal("invalid_recipient", "an X DM needs the numeric user id of the recipient")
    parts = reply_parts(request, ("x", "dm"))
    if isinstance(parts, Refusal):
        return parts
    path = f"/2/dm_conversations/with/{request.recipient}/messages"
    calls = [
        PlannedCall("x", path, {"text": text}, delivery_key(request.reply_id, i), text)
        for i, text in enumerate(parts)
    ]
    # X limits each endpoint apart (DMs 15, posts 100 per 15 min): each is paced apart.
    return ReplyPlan(calls, "RESPONSE", f"{account.user_id}:dm", account.bearer_token_env)


def _x_mention(request: ReplyRequest, brand: Brand) -> ReplyPlan | Refusal:
    account = brand.accounts.x
    if account is None:
        return no_account(request)
    if not request.in_reply_to or not request.in_reply_to.isdigit():
        return Refusal("no_comment", "a reply post needs the id of the customer's post")
    parts = reply_parts(request, ("x", "mention"))
    if isinstance(parts, Refusal):
        return parts
    body = {"text": parts[0], "reply": {"in_reply_to_tweet_id": request.in_reply_to}}
    return ReplyPlan(
        [PlannedCall("x", "/2/tweets", body, delivery_key(request.reply_id), parts[0])],
        "public",
        f"{account.user_id}:post",
        account.bearer_token_env,
    )
