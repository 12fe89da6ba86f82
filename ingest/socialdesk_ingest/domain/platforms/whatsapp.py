"""WhatsApp Cloud API deliveries (``object: whatsapp_business_account``): messages of
every type, statuses (with error codes), and ``smb_message_echoes``.

A user who adopted a WhatsApp username may withhold their phone number: the message then
carries no ``from`` and the contact only a business-scoped user id (BSUID, ``user_id``).
That id is the author then (never taken for a phone number), so the message is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .items import (
    Attachment,
    CustomerMessage,
    DeliveryFact,
    Ignored,
    Item,
    OwnMessage,
    Person,
    Skipped,
    as_dict,
    as_list,
    from_s,
    render_attachments,
    require_id,
    str_id,
    text_of,
)
from .messaging import guard

__all__ = ["whatsapp_entry"]

_MEDIA_TYPES = ("image", "video", "audio", "document", "sticker", "voice", "file")


# --- object: whatsapp_business_account ---------------------------------------------------


def whatsapp_entry(entry: dict[str, Any]) -> Iterator[Item]:
    for change in as_list(entry.get("changes")):
        change = as_dict(change)
        field = change.get("field")
        value = as_dict(change.get("value"))
        phone_id = str_id(as_dict(value.get("metadata")).get("phone_number_id"))
        if field not in ("messages", "smb_message_echoes"):
            yield Ignored("whatsapp", f"unknown_field:{str(field)[:40]}", phone_id)
            continue
        if phone_id is None:
            yield Skipped("whatsapp", "missing_field", "metadata.phone_number_id missing")
            continue
        contacts = _contacts(as_list(value.get("contacts")))
        for m in as_list(value.get("messages")):
            yield from guard("whatsapp", _wa_message, phone_id, as_dict(m), contacts)
        for s in as_list(value.get("statuses")):
            yield from guard("whatsapp", _wa_status, phone_id, as_dict(s))
        for m in as_list(value.get("message_echoes")):
            yield from guard("whatsapp", _wa_echo, phone_id, as_dict(m))


#: What a change's ``contacts`` say of each sender, by phone ``wa_id`` and by business-scoped
#: ``user_id``: display name, username, and the business-scoped id.
_Contacts = dict[str, tuple[str | None, str | None, str | None]]


def _contacts(items: list[object]) -> tuple[_Contacts, str | None]:
    """The senders the change names, and the one contact's id when there is exactly one (a
    message without ``from`` is theirs)."""
    people: _Contacts = {}
    ids: list[str] = []
    for c in (as_dict(x) for x in items):
        profile = as_dict(c.get("profile"))
        bsuid = str_id(c.get("user_id"))
        person = (text_of(profile.get("name")) or None, text_of(profile.get("username")) or None, bsuid)
        keys = [k for k in (str_id(c.get("wa_id")), bsuid) if k]
        people.update(dict.fromkeys(keys, person))
        if keys:
            ids.append(keys[0])
    return people, ids[0] if len(ids) == 1 else None


def _flow_answer(reply: dict[str, object]) -> str:
    """A WhatsApp Flow's submitted form (``nfm_reply``): its answers, not the flow's token."""
    try:
        answers = json.loads(text_of(reply.get("response_json")) or "{}")
    except ValueError:
        answers = {}
    fields = [
        f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
        for k, v in as_dict(answers).items()
        if k != "flow_token"
    ]
    body = text_of(reply.get("body"))
    return f"[form] {'; '.join(fields)}" if fields else f"[form] {body or 'submitted'}"


def _wa_content(m: dict[str, Any]) -> tuple[str, tuple[Attachment, ...]]:
    kind = text_of(m.get("type"))
    body = as_dict(m.get(kind)) if kind else {}
    if kind == "text":
        return text_of(body.get("body")), ()
    if kind in _MEDIA_TYPES:
        caption = text_of(body.get("caption")) or None
        att = Attachment(kind, id=str_id(body.get("id")), caption=caption)
        return caption or render_attachments((att,)), (att,)
    if kind == "location":
        name = text_of(body.get("name")) or text_of(body.get("address"))
        coords = f"{body.get('latitude')},{body.get('longitude')}"
        label = f"{name} ({coords})" if name else coords
        att = Attachment("location", caption=label)
        return f"[location: {label}]", (att,)
    if kind == "contacts":
        people = [
            text_of(as_dict(c.get("name")).get("formatted_name"))
            for c in (as_dict(x) for x in as_list(m.get("contacts")))
        ]
        return f"[contacts: {', '.join(p for p in people if p) or 'shared'}]", (Attachment("contacts"),)
    if kind == "interactive":
        reply = as_dict(body.get("button_reply")) or as_dict(body.get("list_reply"))
        if reply:
            return text_of(reply.get("title")) or text_of(reply.get("id")), ()
        sub = text_of(body.get("type"))
        if sub == "nfm_reply":
            return _flow_answer(as_dict(body.get("nfm_reply"))), ()
        answer = text_of(as_dict(body.get(sub)).get("response")) if sub else ""
        return f"[{sub or 'interactive'} reply{': ' + answer if answer else ''}]", ()
    if kind == "button":
        return text_of(body.get("text")) or text_of(body.get("payload")), ()
    if kind == "order":
        return "[order]", (Attachment("order"),)
    return f"[{kind or 'unknown'} message]", ()


def _wa_message(phone_id: str, m: dict[str, Any], contacts: tuple[_Contacts, str | None]) -> Iterator[Item]:
    kind = text_of(m.get("type"))
    if kind == "reaction":
        yield Ignored("whatsapp", "reaction", phone_id)
        return
    if kind == "system":
        yield Ignored("whatsapp", "system", phone_id)
        return
    wamid = require_id(m.get("id"), "messages[].id")
    people, only = contacts
    sender = require_id(m.get("from") or m.get("from_user_id") or only, "messages[].from")
    name, username, bsuid = people.get(sender, (None, None, None))
    bsuid = str_id(m.get("from_user_id")) or bsuid
    # Known by phone: the phone is who they are (the same-phone rule, replies "to" it), their
    # business-scoped id an alias, what they are known by once they hide their number.
    alias = bsuid if bsuid and bsuid != sender else None
    text, attachments = _wa_content(m)
    context = as_dict(m.get("context"))
    yield CustomerMessage(
        platform="whatsapp",
        kind="dm",
        account_id=phone_id,
        platform_message_id=wamid,
        author=Person(sender, handle=username or sender, display_name=name, alias=alias),
        text=text,
        sent_at=from_s(m.get("timestamp")),
        in_reply_to=str_id(context.get("id")),
        attachments=attachments,
        raw_kind=kind or "messages",
    )


def _wa_status(phone_id: str, s: dict[str, Any]) -> Iterator[Item]:
    wamid = require_id(s.get("id"), "statuses[].id")
    status = text_of(s.get("status"))
    if status not in ("sent", "delivered", "read", "failed", "played", "deleted"):
        yield Ignored("whatsapp", f"status_{status}"[:40], phone_id)
        return
    errors = [as_dict(e) for e in as_list(s.get("errors"))]
    code = errors[0].get("code") if errors else None
    yield DeliveryFact(
        platform="whatsapp",
        account_id=phone_id,
        status=status,  # type: ignore[arg-type]  # checked against the literal's values above
        at=from_s(s.get("timestamp")),
        platform_message_ids=(wamid,),
        # a user who hides their number is named by their business-scoped id only
        recipient_id=str_id(s.get("recipient_id")) or str_id(s.get("recipient_user_id")),
        error_code=code if isinstance(code, int) else None,
        error_title=(text_of(errors[0].get("title")) or text_of(errors[0].get("message")) or None)
        if errors
        else None,
        callback_data=text_of(s.get("biz_opaque_callback_data")) or None,
    )


def _wa_echo(phone_id: str, m: dict[str, Any]) -> Iterator[Item]:
    wamid = require_id(m.get("id"), "message_echoes[].id")
    text, _ = _wa_content(m)
    yield OwnMessage(
        "whatsapp",
        "dm",
        phone_id,
        wamid,
        str_id(m.get("to")) or str_id(m.get("to_user_id")),
        text,
        from_s(m.get("timestamp")),
        typed_in_platform_inbox=True,
    )
