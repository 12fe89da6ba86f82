"""A local Slack Web API that behaves like the real one, for tests that cannot reach Slack.

Same paths and shapes as ``https://slack.com/api/<method>``: JSON, form or query
arguments, ``Authorization: Bearer`` (or a ``token`` argument), errors as **HTTP 200**
``{"ok": false, "error": ...}``, throttling as **HTTP 429** with ``Retry-After``. Point
``slack_sdk`` at it with ``base_url``::

    with FakeSlack(token="xoxb-test", channels={"C0OURBUS"}) as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        await client.chat_postMessage(channel="C0OURBUS", text="Escalation")
        assert slack.wait_for_posts(1)[0]["channel"] == "C0OURBUS"

Methods: ``auth.test``, ``chat.postMessage``, ``chat.update``, ``conversations.history``,
``conversations.replies``, ``conversations.join``, ``apps.connections.open``. Anything else answers HTTP 404 ``unknown_method``.

Interactivity (issue 11): :meth:`response_url` gives a ``response_url`` on this fake
(``POST /actions/...``, answered ``200 ok`` like Slack's) and :attr:`responses` records what
was posted to it; :func:`signed_interaction` builds a ``block_actions`` request signed the
way Slack signs it. With ``post_interval`` set, ``chat.postMessage`` to a channel within
that many seconds of the channel's previous accepted post answers **HTTP 429**
``ratelimited`` with ``Retry-After``, as Slack's ~1 message/second/channel limit does.

Where Slack is lenient or undocumented the fake is strict, so a bug shows here rather
than in production: ``thread_ts`` must be the ts of a parent message in that channel
(else ``thread_not_found``), ``metadata`` must be ``{event_type, event_payload}``, and
``conversations.history`` returns message metadata only with ``include_all_metadata``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tests.fakes._http import Call, FakeServer, Fault, Reply, Request
from tests.fakes.slack_wire import (
    SlackChannel,
    _SlackError,
    _truthy,
    _ts_of,
    conversation_history,
    conversation_replies,
    message_content,
    signed_interaction,
    with_block_ids,
)

__all__ = ["FakeSlack", "SlackChannel", "signed_interaction"]

_METHODS = frozenset(
    {
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "conversations.history",
        "conversations.join",
        "conversations.replies",
        "apps.connections.open",
    }
)


class FakeSlack(FakeServer):
    """A Slack workspace with one bot, on ``http://127.0.0.1:<port>/api/``.

    Args:
        token: the only bot token accepted.
        channels: channel ids, or a mapping of id to name.
        joined: channels the bot is a member of (default: all). Posting works without
            membership (as with ``chat:write.public``); ``conversations.history`` answers
            ``not_in_channel`` until ``conversations.join``.
        clock: seconds since the epoch, for message ts (ts stay unique and increasing).

    Recording: :attr:`posts` (accepted ``chat.postMessage`` arguments), :attr:`updates`,
    :attr:`calls` (every request with its answer). Faults: :meth:`rate_limit_next`,
    :meth:`fail_next`.
    """

    def __init__(
        self,
        *,
        token: str = "xoxb-test",
        channels: Iterable[str] | Mapping[str, str] = (),
        joined: Iterable[str] | None = None,
        team_id: str = "T0FAKE",
        bot_user_id: str = "U0FAKEBOT",
        bot_id: str = "B0FAKEBOT",
        app_id: str = "A0FAKEAPP",
        clock: Callable[[], float] = time.time,
        post_interval: float | None = None,
        app_token: str = "xapp-test",
        socket_url: str | None = None,
    ) -> None:
        super().__init__()
        self.app_token = app_token
        #: Where ``apps.connections.open`` points Socket Mode clients (a FakeSocketMode's url).
        self.socket_url = socket_url
        self.post_interval = post_interval
        self._last_post_at: dict[str, float] = {}
        self._responses: list[dict[str, Any]] = []
        self.token = token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self._clock = clock
        self._last_ts = 0
        self._channels: dict[str, SlackChannel] = {}
        self._posts: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        names = dict(channels) if isinstance(channels, Mapping) else {c: c.lower() for c in channels}
        members = None if joined is None else set(joined)
        for channel_id, name in names.items():
            self.add_channel(channel_id, name=name, joined=members is None or channel_id in members)

    # public helpers --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What to pass as ``slack_sdk``'s ``base_url`` (ends with ``/api/``)."""
        return f"{self.url}/api/"

    def add_channel(self, channel_id: str, *, name: str | None = None, joined: bool = True) -> None:
        with self._lock:
            self._channels[channel_id] = SlackChannel(
                id=channel_id, name=name or channel_id.lower(), is_member=joined, created=int(self._clock())
            )

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Arguments of every accepted ``chat.postMessage`` call, in order (token removed).

        Rejected, rate-limited and failed calls are not here; see :attr:`calls`.
        """
        with self._lock:
            return copy.deepcopy(self._posts)

    @property
    def updates(self) -> list[dict[str, Any]]:
        """Arguments of every accepted ``chat.update`` call, in order."""
        with self._lock:
            return copy.deepcopy(self._updates)

    def wait_for_posts(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until at least ``n`` posts were accepted; return all posts so far."""
        self.wait_until(lambda: len(self._posts) >= n, timeout=timeout, what=f"{n} chat.postMessage")
        return self.posts

    async def await_posts(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """:meth:`wait_for_posts` for async tests (does not block the event loop)."""
        await self.await_until(lambda: len(self._posts) >= n, timeout=timeout, what=f"{n} chat.postMessage")
        return self.posts

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Everything the channel holds, oldest first: top-level messages and thread replies
        (a reply has ``thread_ts`` != ``ts``), with metadata, as Slack stores them."""
        with self._lock:
            return copy.deepcopy(self._channels[channel].messages)

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The parent message ``ts`` and its replies, oldest first."""
        return [m for m in self.messages(channel) if m["ts"] == ts or m.get("thread_ts") == ts]

    def rate_limit_next(self, n: int, retry_after: int = 1, *, method: str | None = None) -> None:
        """The next ``n`` calls (to ``method``, or any) answer HTTP 429 with ``Retry-After``."""
        self._inject(
            Fault(
                n,
                lambda _r: Reply(
                    429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
                ),
                self._method_matcher(method),
            )
        )

    def fail_next(
        self, n: int, status: int = 500, *, method: str | None = None, processed: bool = False
    ) -> None:
        """The next ``n`` calls (to ``method``, or any) answer a server error.

        With ``processed=True`` each call takes effect first (the message is posted) and
        only the answer is an error: what a client that retries 5xx must not post twice.
        """
        error = "service_unavailable" if status == 503 else "internal_error"
        reply = Reply(status, {"ok": False, "error": error})
        self._inject(Fault(n, lambda _r: reply, self._method_matcher(method), processed=processed))

    def response_url(self, name: str = "1") -> str:
        """A ``response_url`` for an interaction payload; what is posted to it is recorded."""
        return f"{self.url}/actions/{self.team_id}/{name}/fake"

    @property
    def responses(self) -> list[dict[str, Any]]:
        """JSON bodies posted to response URLs (ephemeral answers), in order."""
        with self._lock:
            return copy.deepcopy(self._responses)

    async def await_responses(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        await self.await_until(lambda: len(self._responses) >= n, timeout=timeout, what=f"{n} responses")
        return self.responses

    def throttled(self, method: str = "chat.postMessage") -> int:
        """How many calls to ``method`` were answered 429."""
        return sum(1 for c in self.calls if c.route == method and c.status == 429)

    def errors(self) -> list[tuple[str, str]]:
        """``(method, error)`` of every call answered ``ok: false`` so far."""
        return [(c.route, c.reply.body["error"]) for c in self.calls if not _reply_ok(c)]

    # dispatch --------------------------------------------------------------------------
    def _method_matcher(self, method: str | None) -> Callable[[Request], bool]:
        return lambda req: method is None or self._route_of(req) == method

    def _route_of(self, request: Request) -> str:
        return request.path.removeprefix("/api/").strip("/")

    def _dispatch(self, request: Request) -> tuple[str, dict[str, Any], Reply]:
        if request.path.startswith("/actions/") and request.method == "POST":
            try:
                body = request.json()
            except ValueError:
                return "response_url", {}, Reply(400, "invalid_payload")
            self._responses.append(body)
            return "response_url", body, Reply(200, "ok")
        method = self._route_of(request)
        if not request.path.startswith("/api/") or method not in _METHODS:
            return method, {}, Reply(404, {"ok": False, "error": "unknown_method", "req_method": method})
        try:
            args = self._parse_args(request)
        except ValueError:
            return method, {}, Reply(200, {"ok": False, "error": "invalid_json"})
        token = request.bearer or args.pop("token", None)
        args.pop("token", None)
        throttle = self._pace(method, args)
        if throttle is not None:
            return method, args, throttle
        try:
            if not token:
                raise _SlackError("not_authed")
            if method == "apps.connections.open":
                # Socket Mode takes the app-level token, and only it.
                if token != self.app_token:
                    raise _SlackError(
                        "invalid_auth" if not token.startswith("xoxb-") else "not_allowed_token_type"
                    )
                if self.socket_url is None:
                    raise _SlackError("socket_mode_not_enabled")
                return method, args, Reply(200, {"ok": True, "url": self.socket_url})
            if token != self.token:
                raise _SlackError("invalid_auth")
            handler = {
                "auth.test": self._auth_test,
                "chat.postMessage": self._post_message,
                "chat.update": self._update,
                "conversations.history": self._history,
                "conversations.replies": self._replies,
                "conversations.join": self._join,
            }[method]
            body = {"ok": True, **handler(args)}
        except _SlackError as exc:
            body = {"ok": False, "error": exc.error, **exc.extra}
        return method, args, Reply(200, body)

    @staticmethod
    def _parse_args(request: Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.body:
            if request.content_type == "application/json":
                body = request.json()
                if not isinstance(body, dict):
                    raise ValueError("JSON body is not an object")
                args.update(body)
            elif request.content_type == "application/x-www-form-urlencoded":
                args.update(request.form())
        return args

    def _pace(self, method: str, args: Mapping[str, Any]) -> Reply | None:
        """Slack's per-channel posting limit: 429 + Retry-After within ``post_interval``."""
        if self.post_interval is None or method != "chat.postMessage":
            return None
        channel = str(args.get("channel") or "")
        now = time.monotonic()
        last = self._last_post_at.get(channel)
        if last is not None and now - last < self.post_interval:
            wait = max(1, math.ceil(self.post_interval - (now - last)))
            return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
        if channel in self._channels:
            self._last_post_at[channel] = now
        return None

    def _next_ts(self) -> str:
        self._last_ts = max(int(self._clock() * 1_000_000), self._last_ts + 1)
        return _ts_of(self._last_ts)

    def _channel(self, args: Mapping[str, Any]) -> SlackChannel:
        channel = self._channels.get(str(args.get("channel") or ""))
        if channel is None:
            raise _SlackError("channel_not_found")
        return channel

    # methods ---------------------------------------------------------------------------
    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://socialdesk-fake.slack.com/",
            "team": "socialdesk (fake)",
            "user": "socialdesk",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        content = message_content(args, required=True)
        thread_ts = args.get("thread_ts")
        parent: dict[str, Any] | None = None
        if thread_ts:
            parent = channel.find(str(thread_ts))
            if parent is None or parent.get("thread_ts", parent["ts"]) != parent["ts"]:
                raise _SlackError("thread_not_found")  # a reply's ts is not a thread parent
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": content.get("text", ""),
            "ts": ts,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
        }
        if "blocks" in content:
            message["blocks"] = with_block_ids(content["blocks"], ts)
        if "metadata" in content:
            message["metadata"] = content["metadata"]
        if parent is not None:
            message["thread_ts"] = parent["ts"]
            message["parent_user_id"] = parent["user"]
            if _truthy(args.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["reply_users"] = sorted({*parent.get("reply_users", []), self.bot_user_id})
            parent["reply_users_count"] = len(parent["reply_users"])
            parent["latest_reply"] = ts
        channel.messages.append(message)
        recorded = copy.deepcopy(args)
        recorded.update({k: content[k] for k in ("blocks", "metadata") if k in content})
        self._posts.append(recorded)
        return {"channel": channel.id, "ts": ts, "message": copy.deepcopy(message)}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        message = channel.find(str(args.get("ts") or ""))
        if message is None:
            raise _SlackError("message_not_found")
        content = message_content(args, required=True)
        message["text"] = content.get("text", message["text"])
        if "blocks" in content:
            message["blocks"] = with_block_ids(content["blocks"], message["ts"])
        if "metadata" in content:
            message["metadata"] = content["metadata"]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        recorded = copy.deepcopy(args)
        recorded.update({k: content[k] for k in ("blocks", "metadata") if k in content})
        self._updates.append(recorded)
        return {
            "channel": channel.id,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        return conversation_replies(self._channel(args), args)

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        return conversation_history(self._channel(args), args)

    def _join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if channel.is_member:
            return {
                "channel": channel.info(),
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        channel.is_member = True
        return {"channel": channel.info()}


def _reply_ok(call: Call) -> bool:
    body = call.reply.body
    return isinstance(body, dict) and bool(body.get("ok"))
