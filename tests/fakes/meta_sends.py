"""The send side of the Meta fake (:class:`tests.fakes.meta.FakeMeta`): what each Graph
send API accepts, the Graph error envelope it refuses with (the read side uses it too), and
the state a send depends on: users whose 24 h window is closed, comments already answered
by a private reply, and the ids given out.

    Messenger / Instagram  recipient, message or sender_action, messaging_type and tag,
                           private replies (once per comment), text < 2000 characters
    WhatsApp Cloud API     messaging_product, mark-read, text body <= 4096, templates
    comment replies        a message or an attachment
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping
from typing import Any, Literal

from tests.fakes._http import Reply

__all__ = ["Api", "GraphError", "SendRules", "param_error"]

Api = Literal["messenger", "instagram", "whatsapp", "comments", "instagram_replies"]
MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
MESSAGE_TAGS = frozenset(
    {"HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "CUSTOMER_FEEDBACK"}
)
_IG_FORBIDDEN_TAGS = frozenset({"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"})


class GraphError(Exception):
    """Raised inside the fake; becomes the Graph error envelope."""

    def __init__(
        self, code: int, message: str, *, subcode: int | None = None, status: int = 400, **extra: Any
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode, self.status, self.extra = code, message, subcode, status, extra

    def reply(self, headers: Mapping[str, str] | None = None) -> Reply:
        error: dict[str, Any] = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error.update(self.extra)
        error["fbtrace_id"] = "Fake" + secrets.token_hex(6)
        return Reply(self.status, {"error": error}, dict(headers or {}))


def param_error(message: str) -> GraphError:
    return GraphError(100, f"(#100) {message}")


class SendRules:
    """Answers one send (``answer``) as Graph would, or raises :class:`GraphError`.

    Not thread-safe by itself: the fake calls it, and changes its state, under its lock.
    """

    def __init__(self) -> None:
        self.closed_windows: set[str] = set()  # PSID, IGSID or WhatsApp wa_id
        self.private_replied: set[str] = set()  # comment or post ids
        self._ids = itertools.count(1)

    def answer(self, api: Api, object_id: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = {
            "messenger": self._messaging_send,
            "instagram": self._messaging_send,
            "whatsapp": self._whatsapp_send,
            "comments": self._comment_reply,
            "instagram_replies": self._comment_reply,
        }[api]
        return handler(api, object_id, args)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}{secrets.token_hex(4)}"

    def _messaging_send(self, api: Api, _object_id: str, args: dict[str, Any]) -> dict[str, Any]:
        recipient = args.get("recipient")
        if not isinstance(recipient, dict) or not recipient:
            raise param_error("param recipient must be non-empty.")
        message, action = args.get("message"), args.get("sender_action")
        if (message is None) == (action is None):
            raise param_error("Must send either message or sender_action")
        private = recipient.get("comment_id") or recipient.get("post_id")
        if private:
            if action is not None:
                raise param_error("sender_action is not supported for private replies")
            if private in self.private_replied:
                raise GraphError(10900, "Activity already replied to")
        else:
            user = str(recipient.get("id") or "")
            if not user:
                raise param_error("param recipient[id] must be non-empty.")
            if action is not None:
                return {"recipient_id": user}
            self._check_messaging_type(api, args, user)
        if not isinstance(message, dict):
            raise param_error("param message must be an object.")
        text = message.get("text")
        if text is None and "attachment" not in message:
            raise param_error("Must provide message text or attachment")
        if text is not None and len(str(text)) >= 2000:
            raise param_error("Length of param message[text] must be less than or equal to 2000")
        if len(str(message.get("metadata", ""))) >= 1000:
            raise param_error("Length of param message[metadata] must be less than or equal to 1000")
        if len(message.get("quick_replies", [])) > 13:
            raise param_error("param message[quick_replies] must have at most 13 elements")
        if private:
            self.private_replied.add(private)
            return {"recipient_id": f"fake-commenter-{private}", "message_id": self.new_id("m_Fake")}
        return {"recipient_id": str(recipient["id"]), "message_id": self.new_id("m_Fake")}

    def _check_messaging_type(self, api: Api, args: Mapping[str, Any], user: str) -> None:
        kind = args.get("messaging_type")
        if api == "messenger" and kind is None:
            raise param_error("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
        if kind is not None and kind not in MESSAGING_TYPES:
            raise param_error("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
        tag = args.get("tag")
        if kind == "MESSAGE_TAG" and (
            tag not in MESSAGE_TAGS or (api == "instagram" and tag in _IG_FORBIDDEN_TAGS)
        ):
            raise param_error("param tag must be a valid message tag")
        if user in self.closed_windows and tag != "HUMAN_AGENT":
            # api-notes §1.2: the pair (#10, 2018278) for "outside the allowed window"
            raise GraphError(10, "(#10) This message is sent outside of allowed window.", subcode=2018278)

    def _whatsapp_send(self, _api: Api, _object_id: str, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("messaging_product") != "whatsapp":
            raise param_error("The parameter messaging_product is required.")
        if args.get("status") == "read":
            if not args.get("message_id"):
                raise param_error("The parameter message_id is required.")
            return {"success": True}
        # "to" a phone number, or "recipient" a business-scoped user id; "to" wins when both.
        to = str(args.get("to") or args.get("recipient") or "")
        if not to:
            raise param_error("The parameter to is required.")
        kind = args.get("type", "text")
        if kind == "text":
            body = (args.get("text") or {}).get("body")
            if not body:
                raise param_error("The parameter text['body'] is required.")
            if len(body) > 4096:
                raise param_error("Param text['body'] must be at most 4096 characters long.")
        elif kind == "template":
            template = args.get("template") or {}
            if not template.get("name") or not (template.get("language") or {}).get("code"):
                raise param_error(
                    "The parameter template['name'] and template['language']['code'] are required."
                )
        if to in self.closed_windows and kind != "template":
            raise GraphError(
                131047,
                "(#131047) Re-engagement message",
                error_data={
                    "messaging_product": "whatsapp",
                    "details": "Message failed to send because more than 24 hours have passed since the "
                    "customer last replied to this number.",
                },
            )
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id" if args.get("to") else "user_id": to}],
            "messages": [{"id": self.new_id("wamid.HBgFake")}],
        }

    def _comment_reply(self, api: Api, object_id: str, args: dict[str, Any]) -> dict[str, Any]:
        if not str(args.get("message") or "").strip() and "attachment_url" not in args:
            raise param_error("Missing message or attachment")
        if api == "comments":
            post = object_id.split("_")[0]
            return {"id": f"{post}_{self.new_id('')}"}
        return {"id": self.new_id("18")}
