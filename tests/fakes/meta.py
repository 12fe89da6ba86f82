"""A local Meta Graph send API: Messenger, Instagram, Page comment replies, WhatsApp Cloud API.

Paths as on ``graph.facebook.com`` / ``graph.instagram.com`` (any ``v<N>.<M>`` version)::

    POST /<ver>/<PAGE_ID>/messages          Messenger send / private reply   "messenger.send"
    POST /<ver>/<IG_ID>/messages            Instagram send / private reply   "instagram.send"
    POST /<ver>/<PHONE_NUMBER_ID>/messages  WhatsApp send / mark-read       "whatsapp.send"
    POST /<ver>/<comment-id>/comments       Facebook public comment reply    "comments.reply"
    POST /<ver>/<ig-comment-id>/replies     Instagram public comment reply   "instagram.reply"
    GET  /<ver>/<comment-id>/comments       a comment's replies (Facebook)    "comments.list"
    GET  /<ver>/<ig-comment-id>/replies     a comment's replies (Instagram)   "instagram.replies"
    GET  /<ver>/<post-id>                   a post (FB post mentions)         "graph.read"
    GET  /<ver>/<PAGE_ID|IG_ID>/conversations  recent conversations (polling)  "graph.conversations"
    GET  /<ver>/<IG_ID>?fields=mentioned_comment.comment_id(<id>){...}      "graph.read"

Token as ``Authorization: Bearer`` or ``access_token`` (query or body). Every error is the
Graph envelope ``{"error": {message, type, code, error_subcode?, fbtrace_id}}``.
Throttling is what Graph sends: an error **code** (613 for Pages/Messenger/IG, 130429 for
WhatsApp), by default with HTTP 400 as Meta's WhatsApp error table lists, plus an
``X-App-Usage`` header at 100 %; pass ``status=429`` to model a proxy that maps it.

    with FakeMeta(token="EAAG-test", pages={"730011223344556"}, phone_numbers={"408877665544332"}) as meta:
        httpx.post(f"{meta.url}/v23.0/730011223344556/messages", json=..., headers=...)
        (send,) = meta.wait_for_sends(1)

Messaging windows are not tracked from webhooks (the fake sees no inbound traffic): call
:meth:`FakeMeta.close_window` to make a user's 24 h window closed. A closed WhatsApp
window answers 131047 synchronously; in production it may also arrive later as a
``failed`` status webhook (api-notes §4), which this fake does not send.

Comment replies the fake accepted are listed by the two GET edges above, authored by the
Page or IG account the comment is under (:meth:`FakeMeta.add_comment`, or the only one
configured), stamped by ``clock`` (a test gives its fake clock). :meth:`FakeMeta.lose_answer_next`
makes a call take effect and then cuts the connection without an answer: a send whose
answer was lost.

What each send API accepts, and the Graph error envelope: :mod:`tests.fakes.meta_sends`;
the comment edges: :mod:`tests.fakes.meta_comments`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.fakes._http import FakeServer, Fault, Reply, Request
from tests.fakes.meta_comments import CommentThreads, unknown_object
from tests.fakes.meta_sends import Api, GraphError, SendRules, param_error

__all__ = ["FakeMeta", "MetaSend"]

_ROUTE: dict[Api, str] = {
    "messenger": "messenger.send",
    "instagram": "instagram.send",
    "whatsapp": "whatsapp.send",
    "comments": "comments.reply",
    "instagram_replies": "instagram.reply",
}
_LIST_ROUTE: dict[Api, str] = {"comments": "comments.list", "instagram_replies": "instagram.replies"}
_CONVERSATIONS_PATH = re.compile(r"^/v\d+\.\d+/(?P<object_id>[^/]+)/conversations/?$")
_READ_PATH = re.compile(r"^/v\d+\.\d+/(?P<object_id>[^/]+)/?$")
_MENTIONED = re.compile(
    r"^(?P<edge>mentioned_comment|mentioned_media)\.(?:comment_id|media_id)\((?P<id>[^)]+)\)"
)
_PATH = re.compile(r"^/v\d+\.\d+/(?P<object_id>[^/]+)/(?P<edge>messages|comments|replies)/?$")
_THROTTLE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    130429: "(#130429) Rate limit hit",
    131056: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
}


@dataclass(frozen=True, slots=True)
class MetaSend:
    """One accepted send: which API, the object in the path, the parsed body, the answer."""

    api: Api
    object_id: str
    payload: dict[str, Any]
    response: dict[str, Any]


def _maybe_json(value: Any) -> Any:
    """Graph takes form bodies whose object values are JSON strings."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeMeta(FakeServer):
    """Meta's Graph send APIs for the accounts given; one access token for all of them.

    Args:
        token: the accepted access token (Page, IG and WhatsApp system-user tokens alike).
        pages: Facebook Page ids (``/<PAGE_ID>/messages`` is Messenger).
        ig_accounts: Instagram account ids (``/<IG_ID>/messages`` is Instagram).
        phone_numbers: WhatsApp phone number ids (``/<PHONE_NUMBER_ID>/messages``).
        clock: when comment replies are created (default: the wall clock, UTC).

    Recording: :attr:`sends` (accepted sends), :attr:`calls` (everything). Faults:
    :meth:`rate_limit_next`, :meth:`error_next`, :meth:`fail_next`, :meth:`lose_answer_next`
    (each for one ``api``, GETs of its edges included, or for any call).
    """

    def __init__(
        self,
        *,
        token: str = "EAAG-test",
        pages: Iterable[str] = (),
        ig_accounts: Iterable[str] = (),
        phone_numbers: Iterable[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.token = token
        self.pages = frozenset(pages)
        self.ig_accounts = frozenset(ig_accounts)
        self.phone_numbers = frozenset(phone_numbers)
        self._sends: list[MetaSend] = []
        self._rules = SendRules()  # what each send API accepts; closed windows
        self._objects: dict[str, dict[str, Any]] = {}
        self._conversations: dict[str, dict[str, dict[str, Any]]] = {}
        self._threads = CommentThreads(pages=self.pages, ig_accounts=self.ig_accounts)

    # public helpers --------------------------------------------------------------------
    @property
    def sends(self) -> list[MetaSend]:
        with self._lock:
            return list(self._sends)

    def sends_to(self, api: Api) -> list[MetaSend]:
        return [s for s in self.sends if s.api == api]

    def wait_for_sends(self, n: int, timeout: float = 10.0) -> list[MetaSend]:
        self.wait_until(lambda: len(self._sends) >= n, timeout=timeout, what=f"{n} Meta sends")
        return self.sends

    async def await_sends(self, n: int, timeout: float = 10.0) -> list[MetaSend]:
        await self.await_until(lambda: len(self._sends) >= n, timeout=timeout, what=f"{n} Meta sends")
        return self.sends

    def close_window(self, user_id: str) -> None:
        """The user's 24 h messaging window is closed (PSID, IGSID or WhatsApp wa_id)."""
        with self._lock:
            self._rules.closed_windows.add(user_id)

    def open_window(self, user_id: str) -> None:
        with self._lock:
            self._rules.closed_windows.discard(user_id)

    def error_next(
        self,
        n: int,
        code: int,
        message: str | None = None,
        *,
        subcode: int | None = None,
        status: int = 400,
        api: Api | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """The next ``n`` calls (to ``api``, or any) answer this Graph error."""
        error = GraphError(code, message or f"(#{code}) Fake error", subcode=subcode, status=status)
        self._inject(Fault(n, lambda _r: error.reply(headers), self._api_matcher(api)))

    def rate_limit_next(
        self, n: int, *, code: int | None = None, status: int = 400, api: Api | None = None
    ) -> None:
        """Throttle the next ``n`` calls: code 130429 on WhatsApp, else 613 (or ``code``)."""
        usage = json.dumps({"call_count": 100, "total_cputime": 20, "total_time": 30})

        def make(request: Request) -> Reply:
            chosen = code or (130429 if self._api_of(request) == "whatsapp" else 613)
            extra: dict[str, Any] = {}
            if chosen in {130429, 131056}:
                extra["error_data"] = {
                    "messaging_product": "whatsapp",
                    "details": "Cloud API message throughput has been reached.",
                }
            message = _THROTTLE_MESSAGES.get(chosen, f"(#{chosen}) Rate limited")
            return GraphError(chosen, message, status=status, **extra).reply({"X-App-Usage": usage})

        self._inject(Fault(n, make, self._api_matcher(api)))

    def fail_next(self, n: int, status: int = 500, *, api: Api | None = None) -> None:
        """Server errors: code 2 "Service temporarily unavailable" (503) or 1 "unknown error"."""
        code, message = (
            (2, "Service temporarily unavailable") if status == 503 else (1, "An unknown error occurred")
        )
        error = GraphError(code, message, status=status, is_transient=True)
        self._inject(Fault(n, lambda _r: error.reply(), self._api_matcher(api)))

    def lose_answer_next(self, n: int, *, api: Api | None = None) -> None:
        """The next ``n`` calls (to ``api``, or any) take effect, then the connection is cut
        with no answer: the client cannot tell whether its send went out."""
        self._inject(Fault(n, lambda _r: Reply(0, drop=True), self._api_matcher(api), processed=True))

    # comments (the replies a comment holds) ---------------------------------------------
    def add_comment(self, comment_id: str, *, account: str | None = None) -> None:
        """A customer's comment under ``account`` (a Page or IG account id; default: the only
        Page, or the only IG account for an id without ``_``), with no replies yet."""
        with self._lock:
            owner = account or self._threads.owner(comment_id, None)
            if owner is None:
                raise ValueError(f"say which account comment {comment_id} is under (account=...)")
            self._threads.add(comment_id, owner)

    def add_comment_reply(
        self, parent: str, *, text: str, author_id: str, author_name: str = "", ig: bool = False
    ) -> str:
        """Someone's reply under ``parent`` (a customer's, or one typed in Meta's inbox); its id."""
        api: Api = "instagram_replies" if ig else "comments"
        with self._lock:
            reply_id = self._rules.new_id("18" if ig else f"{parent.split('_')[0]}_")
            author = {"id": author_id, "name": author_name, "username": author_name}
            self._threads.reply(api, parent, reply_id, text, author=author, at=self.clock())
        return reply_id

    def delete_comment(self, comment_id: str) -> None:
        """The comment is gone: replying to it or listing its replies is Graph's 100/33."""
        with self._lock:
            self._threads.deleted.add(comment_id)

    def comment_replies(self, parent: str) -> list[dict[str, Any]]:
        """The replies under ``parent`` (ours and others'), oldest first."""
        with self._lock:
            items = self._threads.replies.get(parent, [])
            return [{k: v for k, v in item.items() if k != "_at"} for item in copy.deepcopy(items)]

    def _comment_reply(self, api: Api, parent: str, args: Mapping[str, Any]) -> dict[str, Any]:
        self._threads.check_open(parent)
        response = self._rules.answer(api, parent, dict(args))
        self._threads.ours(api, parent, str(response["id"]), str(args.get("message") or ""), at=self.clock())
        return response

    # reads (enrichment of id-only webhooks) ------------------------------------------------
    def add_post(
        self, post_id: str, *, message: str, author_id: str, author_name: str, created_time: int = 1767225900
    ) -> None:
        """A Facebook post (e.g. one mentioning a Page) readable at ``GET /<ver>/<post_id>``."""
        with self._lock:
            self._objects[post_id] = {
                "id": post_id,
                "message": message,
                "from": {"id": author_id, "name": author_name},
                "created_time": created_time,
            }

    def add_ig_mention(
        self, object_id: str, *, text: str, username: str, user_id: str | None, media: bool = False
    ) -> None:
        """An Instagram comment (or media caption) mentioning an account, readable through
        ``GET /<ver>/<IG_ID>?fields=mentioned_comment.comment_id(<id>){...}`` (or
        ``mentioned_media.media_id(<id>){...}``). ``user_id=None``: the answer names the
        author by ``username`` only (what ``mentioned_media`` gives)."""
        with self._lock:
            key = "caption" if media else "text"
            found: dict[str, Any] = {
                "id": object_id,
                key: text,
                "username": username,
                "timestamp": "2026-01-01T00:00:00+0000",
            }
            if user_id is not None:
                found["from"] = {"id": user_id, "username": username}
            self._objects[f"mention:{object_id}"] = found

    def add_conversation_message(
        self,
        account: str,
        *,
        user_id: str,
        mid: str,
        text: str,
        created_time: str,
        from_account: bool = False,
    ) -> None:
        """A message in the conversation of a Page (Messenger) or IG account with a user,
        listed by ``GET /<ver>/<account>/conversations?fields=messages{...}``."""
        sender = {"id": account} if from_account else {"id": user_id}
        with self._lock:
            convs = self._conversations.setdefault(account, {})
            conv = convs.setdefault(user_id, {"id": f"t_{account}_{user_id}", "messages": {"data": []}})
            conv["messages"]["data"].insert(
                0, {"id": mid, "message": text, "from": sender, "created_time": created_time}
            )

    def _read(self, object_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        fields = str(args.get("fields", ""))
        mentioned = _MENTIONED.match(fields)
        with self._lock:
            if mentioned is not None and object_id in self.ig_accounts:
                found = self._objects.get(f"mention:{mentioned['id']}")
                if found is None:
                    raise GraphError(
                        100, "(#100) The comment or media does not mention this account", subcode=33
                    )
                return {"id": object_id, mentioned["edge"]: copy.deepcopy(found)}
            found = self._objects.get(object_id)
            if found is None and object_id in self.pages | self.ig_accounts | self.phone_numbers:
                found = {"id": object_id}  # the account itself: what a health check reads
        if found is None:
            raise GraphError(
                100,
                f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation.",
                subcode=33,
            )
        return copy.deepcopy(found)

    # dispatch --------------------------------------------------------------------------
    def _api_of(self, request: Request) -> Api | None:
        match = _PATH.match(request.path)
        if match is None:
            return None
        object_id, edge = match["object_id"], match["edge"]
        if edge == "comments":
            return "comments"
        if edge == "replies":
            return "instagram_replies"
        if object_id in self.phone_numbers:
            return "whatsapp"
        if object_id in self.ig_accounts:
            return "instagram"
        if object_id in self.pages:
            return "messenger"
        return None

    def _api_matcher(self, api: Api | None) -> Callable[[Request], bool]:
        return lambda req: self._api_of(req) is not None and (api is None or self._api_of(req) == api)

    def _route_of(self, request: Request) -> str:
        api = self._api_of(request)
        if api in _LIST_ROUTE and request.method == "GET":
            return _LIST_ROUTE[api]
        return _ROUTE[api] if api else request.path

    def _dispatch(self, request: Request) -> tuple[str, dict[str, Any], Reply]:
        route = self._route_of(request)
        args: dict[str, Any] = {}
        try:
            args = self._parse(request)
            token = request.bearer or args.pop("access_token", None)
            if not token:
                raise GraphError(104, "An access token is required to request this resource.")
            if token != self.token:
                raise GraphError(190, "Invalid OAuth access token - Cannot parse access token", status=401)
            if request.method == "GET" and (listed := _CONVERSATIONS_PATH.match(request.path)):
                account = listed["object_id"]
                with self._lock:
                    data = copy.deepcopy(list(self._conversations.get(account, {}).values()))
                return "graph.conversations", args, Reply(200, {"data": data})
            if request.method == "GET" and (read := _READ_PATH.match(request.path)):
                return "graph.read", args, Reply(200, self._read(read["object_id"], args))
            match = _PATH.match(request.path)
            api = self._api_of(request)
            if request.method == "GET" and match is not None and api in _LIST_ROUTE:
                listing = self._threads.listing(
                    api, match["object_id"], args, base_url=self.url, path=request.path
                )
                return _LIST_ROUTE[api], args, Reply(200, listing)
            if request.method != "POST" or match is None or api is None:
                raise unknown_object(match["object_id"] if match else request.path, request.method.lower())
            if api in _LIST_ROUTE:
                response = self._comment_reply(api, match["object_id"], args)
            else:
                response = self._rules.answer(api, match["object_id"], args)
        except GraphError as exc:
            return route, args, exc.reply()
        except ValueError:
            return route, args, param_error("Invalid JSON for postbody").reply()
        self._sends.append(MetaSend(api, match["object_id"], copy.deepcopy(args), copy.deepcopy(response)))
        return route, args, Reply(200, response)

    @staticmethod
    def _parse(request: Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.body:
            if request.content_type == "application/json":
                body = request.json()
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                args.update(body)
            else:
                args.update({k: _maybe_json(v) for k, v in request.form().items()})
        return args
