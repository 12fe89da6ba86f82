"""Slack's wire rules as the fake applies them: message and block limits, ts values,
pagination cursors, request signing (:mod:`tests.fakes.slack` serves them)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SlackChannel",
    "conversation_history",
    "conversation_replies",
    "message_content",
    "signed_interaction",
    "with_block_ids",
]

MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_BLOCKS = 50  # api-notes §5 flags this cap as unverified
KNOWN_BLOCK_TYPES = frozenset(
    {
        "section",
        "context",
        "actions",
        "divider",
        "header",
        "image",
        "input",
        "rich_text",
        "markdown",
        "file",
        "video",
    }
)


@dataclass(slots=True)
class SlackChannel:
    """A channel of the fake workspace and everything posted to it (oldest first)."""

    id: str
    name: str
    is_member: bool
    created: int
    messages: list[dict[str, Any]] = field(default_factory=list)

    def find(self, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["ts"] == ts), None)

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_private": False,
            "is_archived": False,
            "is_member": self.is_member,
            "created": self.created,
        }


class _SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _ts_key(ts: Any) -> int:
    """A Slack ts ("1767225600.000100") as integer microseconds, for ordering and ranges."""
    sec, _, frac = str(ts).partition(".")
    return int(sec or 0) * 1_000_000 + int((frac + "000000")[:6] or 0)


def _ts_of(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _decode_json_arg(value: Any) -> Any:
    """Form-encoded calls carry ``blocks``/``metadata`` as JSON strings; JSON calls as values."""
    return json.loads(value) if isinstance(value, str) else value


def _block_errors(blocks: Any) -> list[str]:
    """Block Kit checks with the limits api-notes §1.8 lists; Slack's error string format."""
    if not isinstance(blocks, list):
        return ["must provide an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"must contain at most {MAX_BLOCKS} items [json-pointer:/blocks]")

    def text_ok(obj: Any, pointer: str, *, limit: int, plain_only: bool = False) -> None:
        kinds = {"plain_text"} if plain_only else {"plain_text", "mrkdwn"}
        if not isinstance(obj, dict) or obj.get("type") not in kinds or not isinstance(obj.get("text"), str):
            errors.append(f"failed to match all allowed schemas [json-pointer:{pointer}]")
        elif not obj["text"]:
            errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
        elif len(obj["text"]) > limit:
            errors.append(f"must be less than {limit + 1} characters [json-pointer:{pointer}/text]")

    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCK_TYPES:
            errors.append(f"failed to match all allowed schemas [json-pointer:{at}]")
            continue
        if len(str(block.get("block_id", ""))) > 255:
            errors.append(f"must be less than 256 characters [json-pointer:{at}/block_id]")
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(f"must contain either text or fields [json-pointer:{at}]")
            if "text" in block:
                text_ok(block["text"], f"{at}/text", limit=MAX_SECTION_TEXT)
            fields = block.get("fields", [])
            if not isinstance(fields, list) or len(fields) > 10:
                errors.append(f"must contain at most 10 items [json-pointer:{at}/fields]")
            else:
                for j, f in enumerate(fields):
                    text_ok(f, f"{at}/fields/{j}", limit=2000)
        elif kind == "header":
            text_ok(block.get("text"), f"{at}/text", limit=150, plain_only=True)
        elif kind in {"context", "actions"}:
            cap = 10 if kind == "context" else 25
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > cap:
                errors.append(f"must contain between 1 and {cap} items [json-pointer:{at}/elements]")
                continue
            for j, el in enumerate(elements):
                if isinstance(el, dict) and el.get("type") == "button":
                    el_at = f"{at}/elements/{j}"
                    text_ok(el.get("text"), f"{el_at}/text", limit=75, plain_only=True)
                    if len(str(el.get("value", ""))) > 2000:
                        errors.append(f"must be less than 2001 characters [json-pointer:{el_at}/value]")
                    if len(str(el.get("action_id", ""))) > 255:
                        errors.append(f"must be less than 256 characters [json-pointer:{el_at}/action_id]")
                    if "style" in el and el["style"] not in {"primary", "danger"}:
                        errors.append(f"must be a valid enum value [json-pointer:{el_at}/style]")
    return errors


def _encode_cursor(key: int) -> str:
    return base64.b64encode(f"next_ts:{key}".encode()).decode()


def _decode_cursor(cursor: Any) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.b64decode(str(cursor), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("bad cursor") from None
    prefix, _, key = raw.partition(":")
    if prefix != "next_ts":
        raise ValueError("bad cursor")
    return int(key)


def message_content(args: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
    """Validated ``text``/``blocks``/``metadata`` of a post or update."""
    content: dict[str, Any] = {}
    text = args.get("text")
    if text is not None:
        content["text"] = str(text)
    if "blocks" in args and args["blocks"] is not None:
        try:
            blocks = _decode_json_arg(args["blocks"])
        except ValueError:
            raise _SlackError("invalid_blocks", errors=["invalid JSON [json-pointer:/blocks]"]) from None
        problems = _block_errors(blocks)
        if problems:
            raise _SlackError("invalid_blocks", errors=problems)
        content["blocks"] = blocks
    if required and not content.get("text") and not content.get("blocks") and not args.get("attachments"):
        raise _SlackError("no_text")
    if len(content.get("text", "")) > MAX_TEXT:
        raise _SlackError("msg_too_long")
    if args.get("metadata") is not None:
        try:
            metadata = _decode_json_arg(args["metadata"])
        except ValueError:
            raise _SlackError("invalid_metadata_format") from None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise _SlackError("invalid_metadata_format")
        content["metadata"] = metadata
    return content


def with_block_ids(blocks: list[dict[str, Any]], ts: str) -> list[dict[str, Any]]:
    # Slack fills in a block_id when the sender gave none.
    return [{"block_id": f"b{ts[-6:]}{i}", **b} if "block_id" not in b else b for i, b in enumerate(blocks)]


def conversation_replies(channel: SlackChannel, args: Mapping[str, Any]) -> dict[str, Any]:
    """A thread: the parent first, then its replies oldest first (``oldest`` filters
    the replies; metadata only with ``include_all_metadata``), as Slack answers it."""
    if not channel.is_member:
        raise _SlackError("not_in_channel")
    parent = channel.find(str(args.get("ts") or ""))
    if parent is None:
        raise _SlackError("thread_not_found")
    try:
        oldest = _ts_key(args.get("oldest") or "0")
        limit = min(max(int(args.get("limit") or 1000), 1), 1000)
    except ValueError:
        raise _SlackError("invalid_arguments") from None
    root = parent.get("thread_ts", parent["ts"])
    replies = [
        m
        for m in channel.messages
        if m.get("thread_ts") == root and m["ts"] != root and _ts_key(m["ts"]) > oldest
    ]
    top = channel.find(root)
    page = [copy.deepcopy(m) for m in ([top] if top else []) + replies][:limit]
    if not _truthy(args.get("include_all_metadata")):
        for m in page:
            m.pop("metadata", None)
    return {"messages": page, "has_more": False}


def conversation_history(channel: SlackChannel, args: Mapping[str, Any]) -> dict[str, Any]:
    if not channel.is_member:
        raise _SlackError("not_in_channel")
    try:
        limit = min(max(int(args.get("limit") or 100), 1), 999)
        oldest = _ts_key(args.get("oldest") or "0")
        latest = _ts_key(args["latest"]) if args.get("latest") else None
        cursor = _decode_cursor(args.get("cursor"))
    except ValueError:
        raise _SlackError("invalid_arguments") from None
    inclusive = _truthy(args.get("inclusive"))
    with_metadata = _truthy(args.get("include_all_metadata"))

    def in_range(m: dict[str, Any]) -> bool:
        key = _ts_key(m["ts"])
        above = key >= oldest if inclusive else key > oldest
        below = latest is None or (key <= latest if inclusive else key < latest)
        return above and below and (cursor is None or key <= cursor)

    # history holds top-level messages, thread parents and broadcast replies, not replies
    visible = [
        m
        for m in reversed(channel.messages)
        if (m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast") and in_range(m)
    ]
    page = [copy.deepcopy(m) for m in visible[:limit]]
    if not with_metadata:
        for m in page:
            m.pop("metadata", None)
    result: dict[str, Any] = {"messages": page, "has_more": len(visible) > limit, "pin_count": 0}
    if len(visible) > limit:
        result["response_metadata"] = {"next_cursor": _encode_cursor(_ts_key(visible[limit]["ts"]))}
    return result


def signed_interaction(
    payload: Mapping[str, Any], *, secret: str, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """A Slack interaction request: the form body ``payload=<json>`` and its signed headers
    (``X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))``)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    return body, headers
