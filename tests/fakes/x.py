"""A local X API v2 for the two calls we make: send a DM and post (reply to) a tweet.

    POST /2/dm_conversations/with/<participant_id>/messages   {"text": ...}    "dm.send"
    POST /2/tweets   {"text": ..., "reply": {"in_reply_to_tweet_id": ...}}     "tweets.create"
    GET  /2/users/me                                                            "users.me"
    GET  /2/dm_events, GET /2/users/<id>/mentions: the reads a poller makes (see
         :mod:`tests.fakes.x_reads`; ``add_dm`` / ``add_mention`` put items there)

Both answer **201** with ``{"data": ...}`` and need a *user-context* bearer token; an
app-only token is refused with 403 ``unsupported-authentication`` (api-notes §1.7). Every
answer carries ``x-rate-limit-limit|remaining|reset`` (reset in epoch seconds) counted
per endpoint over a window (15 DMs and 100 tweets per 15 min by default); past the limit,
HTTP 429 with the documented body ``{"errors": [{"code": 88, ...}]}`` (clients must go by
status and headers, not the body). Errors otherwise are problem documents
``{"title", "detail", "type", "status"}``. Duplicate tweet text is refused (403) as X
does, which catches a retry that posts twice.

    with FakeX(user_token="x-user", user_id="3300112233") as x:
        httpx.post(f"{x.url}/2/tweets", json={"text": "hi"}, headers={"Authorization": "Bearer x-user"})
"""

from __future__ import annotations

import copy
import itertools
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tests.fakes._http import FakeServer, Fault, Reply, Request
from tests.fakes.x_reads import ReadError, XReads

__all__ = ["FakeX", "XSend"]

Kind = Literal["dm", "tweet", "dm_read", "mentions"]
_DM_PATH = re.compile(r"^/2/dm_conversations/with/(?P<participant>\d+)/messages/?$")
_MENTIONS_PATH = re.compile(r"^/2/users/(?P<user>\d+)/mentions/?$")
_PROBLEMS = "https://api.x.com/2/problems/"
MAX_TWEET = 280  # X weighs characters and counts URLs as 23; the fake counts code points


@dataclass(frozen=True, slots=True)
class XSend:
    """One accepted DM or tweet: the body sent and the ``data`` answered."""

    kind: Kind
    payload: dict[str, Any]
    data: dict[str, Any]
    participant_id: str | None = None


class _Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, kind: str = "about:blank") -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.type = kind if kind.startswith(("about:", "http")) else _PROBLEMS + kind

    def body(self) -> dict[str, Any]:
        return {"title": self.title, "detail": self.detail, "type": self.type, "status": self.status}


@dataclass(slots=True)
class _Window:
    limit: int
    used: int = 0
    reset: int = 0


class FakeX(FakeServer):
    """X API v2 for one authenticated user.

    Args:
        user_token: a user-context (OAuth 2.0 PKCE) access token, accepted for both calls.
        app_token: an app-only bearer token, recognised and refused with 403.
        user_id: the authenticated account (our brand handle's id).
        dm_limit, tweet_limit, window_seconds: per-endpoint rate limits.
        clock: epoch seconds, for the rate-limit windows.
    """

    def __init__(
        self,
        *,
        user_token: str = "x-user-test",
        app_token: str = "x-app-test",
        user_id: str = "3300112233",
        dm_limit: int = 15,
        tweet_limit: int = 100,
        dm_read_limit: int = 300,
        mentions_limit: int = 450,
        window_seconds: int = 900,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.user_token, self.app_token, self.user_id = user_token, app_token, user_id
        self.window_seconds = window_seconds
        self._clock = clock
        self._windows: dict[Kind, _Window] = {
            "dm": _Window(dm_limit),
            "tweet": _Window(tweet_limit),
            "dm_read": _Window(dm_read_limit),
            "mentions": _Window(mentions_limit),
        }
        self.reads = XReads(user_id)
        self._sends: list[XSend] = []
        self._tweet_texts: set[str] = set()
        self._ids = itertools.count(int(clock() * 1000 - 1_288_834_974_657) << 22)  # snowflake-like

    # public helpers --------------------------------------------------------------------
    @property
    def sends(self) -> list[XSend]:
        with self._lock:
            return list(self._sends)

    @property
    def dms(self) -> list[XSend]:
        return [s for s in self.sends if s.kind == "dm"]

    @property
    def tweets(self) -> list[XSend]:
        return [s for s in self.sends if s.kind == "tweet"]

    def wait_for_sends(self, n: int, timeout: float = 10.0) -> list[XSend]:
        self.wait_until(lambda: len(self._sends) >= n, timeout=timeout, what=f"{n} X sends")
        return self.sends

    async def await_sends(self, n: int, timeout: float = 10.0) -> list[XSend]:
        await self.await_until(lambda: len(self._sends) >= n, timeout=timeout, what=f"{n} X sends")
        return self.sends

    def add_dm(
        self,
        sender_id: str,
        text: str,
        *,
        created_at: datetime,
        event_id: str | None = None,
        username: str | None = None,
        name: str | None = None,
        followers: int = 0,
        to: str | None = None,
    ) -> str:
        """A DM event readable through ``GET /2/dm_events`` (our own when ``sender_id`` is
        ours: then ``to`` is the customer); its id."""
        event_id = event_id or str(next(self._ids))
        with self._lock:
            if sender_id != self.user_id:
                self.reads.add_user(sender_id, username, name, followers)
            recipient = to if sender_id == self.user_id and to else self.user_id
            self.reads.new_dm(
                event_id, sender_id=sender_id, recipient_id=recipient, text=text, created_at=created_at
            )
        return event_id

    def add_mention(
        self,
        author_id: str,
        text: str,
        *,
        created_at: datetime,
        tweet_id: str | None = None,
        in_reply_to: str | None = None,
        retweet_of: str | None = None,
        username: str | None = None,
        name: str | None = None,
        followers: int = 0,
    ) -> str:
        """A tweet mentioning us, readable through ``GET /2/users/<us>/mentions``; its id."""
        tweet_id = tweet_id or str(next(self._ids))
        with self._lock:
            self.reads.add_user(author_id, username, name, followers)
            self.reads.new_mention(
                tweet_id,
                author_id=author_id,
                text=text,
                created_at=created_at,
                in_reply_to=in_reply_to,
                retweet_of=retweet_of,
            )
        return tweet_id

    def rate_limit_next(self, n: int, retry_after: int = 1, *, kind: Kind | None = None) -> None:
        """The next ``n`` calls answer 429 with ``x-rate-limit-reset`` ``retry_after`` s ahead."""

        def make(request: Request) -> Reply:
            window = self._windows[self._kind_of(request) or "tweet"]
            reset = math.ceil(self._clock()) + retry_after
            return Reply(429, _RATE_LIMITED, _limit_headers(window.limit, 0, reset))

        self._inject(Fault(n, make, self._kind_matcher(kind)))

    def fail_next(self, n: int, status: int = 503, *, kind: Kind | None = None) -> None:
        title = "Service Unavailable" if status == 503 else "Internal Server Error"
        problem = _Problem(status, title, title)
        self._inject(Fault(n, lambda _r: Reply(status, problem.body()), self._kind_matcher(kind)))

    # dispatch --------------------------------------------------------------------------
    def _kind_of(self, request: Request) -> Kind | None:
        if _DM_PATH.match(request.path):
            return "dm"
        if request.path.rstrip("/") == "/2/tweets":
            return "tweet"
        if request.method == "GET" and request.path.rstrip("/") == "/2/dm_events":
            return "dm_read"
        if request.method == "GET" and _MENTIONS_PATH.match(request.path):
            return "mentions"
        return None

    def _kind_matcher(self, kind: Kind | None) -> Callable[[Request], bool]:
        # No kind: the sends only, as before the reads existed.
        return lambda req: (
            (self._kind_of(req) in ("dm", "tweet")) if kind is None else self._kind_of(req) == kind
        )

    def _route_of(self, request: Request) -> str:
        routes: dict[Kind | None, str] = {
            "dm": "dm.send",
            "tweet": "tweets.create",
            "dm_read": "dm_events.list",
            "mentions": "users.mentions",
        }
        return routes.get(self._kind_of(request), request.path)

    def _dispatch(self, request: Request) -> tuple[str, dict[str, Any], Reply]:
        route, kind = self._route_of(request), self._kind_of(request)
        args: dict[str, Any] = {}
        if request.method == "GET" and request.path.rstrip("/") == "/2/users/me":
            # Who the token acts for: what a channel health check reads.
            if request.bearer == self.user_token:
                return "users.me", args, Reply(200, {"data": {"id": self.user_id, "username": "ourbus"}})
            if request.bearer == self.app_token:
                problem = _Problem(
                    403, "Unsupported Authentication", "app-only token", "unsupported-authentication"
                )
                return "users.me", args, Reply(403, problem.body())
            return "users.me", args, Reply(401, _Problem(401, "Unauthorized", "Unauthorized").body())
        if kind in ("dm_read", "mentions"):
            return route, dict(request.query), self._read(request, kind)
        if kind is None or request.method != "POST":
            problem = _Problem(
                404,
                "Not Found Error",
                f"Could not find {request.method} {request.path}",
                "resource-not-found",
            )
            return route, args, Reply(404, problem.body())
        token = request.bearer
        if token == self.app_token:
            problem = _Problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint. Supported "
                "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                "unsupported-authentication",
            )
            return route, args, Reply(403, problem.body())
        if token != self.user_token:
            return route, args, Reply(401, _Problem(401, "Unauthorized", "Unauthorized").body())
        window = self._window(kind)
        if window.used >= window.limit:
            return route, args, Reply(429, _RATE_LIMITED, _limit_headers(window.limit, 0, window.reset))
        window.used += 1
        headers = _limit_headers(window.limit, window.limit - window.used, window.reset)
        try:
            body = request.json() if request.body else None
            if not isinstance(body, dict):
                raise _Problem(
                    400, "Invalid Request", "request body must be a JSON object", "invalid-request"
                )
            args = body
            dm_path = _DM_PATH.match(request.path)
            send = self._dm(dm_path["participant"], args) if dm_path else self._tweet(args)
        except ValueError:
            problem = _Problem(400, "Invalid Request", "request body is not valid JSON", "invalid-request")
            return route, args, Reply(400, problem.body(), headers)
        except _Problem as problem:
            return route, args, Reply(problem.status, problem.body(), headers)
        self._sends.append(send)
        return route, args, Reply(201, {"data": copy.deepcopy(send.data)}, headers)

    def _read(self, request: Request, kind: Kind) -> Reply:
        token = request.bearer
        if token == self.app_token and kind == "dm_read":
            problem = _Problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint. Supported "
                "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                "unsupported-authentication",
            )
            return Reply(403, problem.body())
        if token not in (self.user_token, self.app_token):
            return Reply(401, _Problem(401, "Unauthorized", "Unauthorized").body())
        window = self._window(kind)
        if window.used >= window.limit:
            return Reply(429, _RATE_LIMITED, _limit_headers(window.limit, 0, window.reset))
        window.used += 1
        headers = _limit_headers(window.limit, window.limit - window.used, window.reset)
        try:
            if kind == "dm_read":
                return Reply(200, self.reads.dm_events_page(request.query), headers)
            match = _MENTIONS_PATH.match(request.path)
            assert match is not None
            return Reply(200, self.reads.mentions_page(match["user"], request.query), headers)
        except ReadError as exc:
            return Reply(exc.status, _Problem(exc.status, exc.title, exc.detail, exc.kind).body(), headers)

    def _window(self, kind: Kind) -> _Window:
        window = self._windows[kind]
        now = math.ceil(self._clock())
        if now >= window.reset:
            window.used, window.reset = 0, now + self.window_seconds
        return window

    def _text(self, args: dict[str, Any], *, media_ok: str) -> str:
        text = args.get("text")
        if text is not None and not isinstance(text, str):
            raise _Problem(400, "Invalid Request", "text must be a string", "invalid-request")
        if not text and not args.get(media_ok):
            raise _Problem(400, "Invalid Request", "text missing", "invalid-request")
        return text or ""

    def _dm(self, participant: str, args: dict[str, Any]) -> XSend:
        self._text(args, media_ok="attachments")
        if participant == self.user_id:
            raise _Problem(400, "Invalid Request", "cannot send a DM to yourself", "invalid-request")
        low, high = sorted((self.user_id, participant), key=int)
        data = {"dm_conversation_id": f"{low}-{high}", "dm_event_id": str(next(self._ids))}
        return XSend("dm", copy.deepcopy(args), data, participant)

    def _tweet(self, args: dict[str, Any]) -> XSend:
        text = self._text(args, media_ok="media")
        if len(text) > MAX_TWEET:
            raise _Problem(
                400, "Invalid Request", f"text is longer than {MAX_TWEET} characters", "invalid-request"
            )
        reply_to = (args.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and not re.fullmatch(r"\d{1,19}", str(reply_to)):
            raise _Problem(
                400, "Invalid Request", "reply.in_reply_to_tweet_id must be a tweet id", "invalid-request"
            )
        if text and text in self._tweet_texts:
            raise _Problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        self._tweet_texts.add(text)
        tweet_id = str(next(self._ids))
        return XSend(
            "tweet", copy.deepcopy(args), {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}
        )


_RATE_LIMITED: dict[str, Any] = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}


def _limit_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }
