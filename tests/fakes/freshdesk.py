"""A local Freshdesk (REST API v2) that behaves like the real one, for tests.

Same paths and shapes as ``https://<domain>.freshdesk.com/api/v2/``: HTTP Basic auth with
the API key as the user name (401 otherwise), JSON bodies, errors shaped like Freshdesk's
(``{"description": "Validation failed", "errors": [{"field", "message", "code"}]}``),
a per-account request budget per window with ``X-RateLimit-Total`` /
``X-RateLimit-Remaining`` / ``X-RateLimit-Used-CurrentRequest`` on every answer (invalid
requests count too), a separate ticket-create cap, and 429 with ``Retry-After``. The
window is 60 s at Freshdesk; tests shorten it.

Agents' actions the test triggers (:meth:`FakeFreshdesk.agent_reply`,
:meth:`FakeFreshdesk.agent_note`, :meth:`FakeFreshdesk.agent_set_status`) fire the
Automation-rule webhooks the README documents to ``webhook_url``, with the secret header.
So do a status change and a private note made through the API (Freshdesk's rules fire on
any update), which is how a connector that echoes its own changes back would show::

    with FakeFreshdesk(api_key="k", groups={7}) as fd:
        httpx.post(fd.url + "/api/v2/tickets", auth=("k", "X"), json={...})

Routes: tickets (create, list by requester, view, update), notes, reply, conversations,
contacts (create with ``unique_external_id`` unique: 409 ``duplicate_value``; list by
``unique_external_id``), search by tag. The records behind them, and the validation
Freshdesk applies to them: :mod:`tests.fakes.freshdesk_records`.
"""

from __future__ import annotations

import base64
import math
import re
import threading
import time
from typing import Any

import httpx

from tests.fakes._http import FakeServer, Reply, Request
from tests.fakes.freshdesk_records import FreshdeskRecords, Invalid, now_iso, validation_error

__all__ = ["FakeFreshdesk"]

_TICKET = re.compile(r"^/api/v2/tickets/(\d+)$")
_TICKET_SUB = re.compile(r"^/api/v2/tickets/(\d+)/(notes|reply|conversations)$")
_SEARCH_TAG = re.compile(r"tag:'([^']+)'")
STATUS_NAMES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}


class FakeFreshdesk(FakeServer):
    def __init__(
        self,
        *,
        api_key: str,
        groups: set[int] | frozenset[int] = frozenset({43000000001}),
        agents: dict[int, str] | None = None,
        per_window: int = 400,
        create_cap: int = 160,
        window_seconds: float = 60.0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_header: str = "X-Socialdesk-Secret",
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.records = FreshdeskRecords(groups=set(groups), agents=dict(agents or {}))
        # The records' own collections, under the names tests read.
        self.groups, self.agents = self.records.groups, self.records.agents
        self.tickets, self.contacts = self.records.tickets, self.records.contacts
        self.conversations, self.emails = self.records.conversations, self.records.emails
        self.per_window = per_window
        self.create_cap = create_cap
        self.window_seconds = window_seconds
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.webhook_header = webhook_header
        self.webhooks: list[tuple[dict[str, Any], int]] = []  # fired (body, status answered)
        self.throttled = 0  # 429s given
        self._window_start = 0.0
        self._used = 0
        self._creates = 0
        self._webhook_threads: list[threading.Thread] = []

    # --- what a test reads ----------------------------------------------------------------

    def tickets_tagged(self, tag: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(t) for t in self.tickets.values() if tag in t["tags"]]

    def tag_counts(self, prefix: str = "") -> dict[str, int]:
        """How many tickets carry each tag (starting with ``prefix``): one pass, one lock."""
        counts: dict[str, int] = {}
        with self._lock:
            for ticket in self.tickets.values():
                for tag in ticket["tags"]:
                    if tag.startswith(prefix):
                        counts[tag] = counts.get(tag, 0) + 1
        return counts

    def notes_of(self, ticket_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.conversations.get(ticket_id, [])]

    def contact(self, contact_id: int) -> dict[str, Any]:
        with self._lock:
            return dict(self.contacts[contact_id])

    # --- agents' actions in Freshdesk (fire the Automation webhook) -------------------------

    def agent_reply(self, ticket_id: int, body: str, *, agent_id: int) -> dict[str, Any]:
        """An agent replies in Freshdesk's UI: Freshdesk e-mails it (if it can) and the rule fires."""
        with self._changed:
            ticket = self.tickets[ticket_id]
            conversation = self.records.conversation(
                ticket_id, body, private=False, incoming=False, user_id=agent_id
            )
            self.records.email(ticket, body)
            self._changed.notify_all()
        self._fire(ticket, "reply", body=body, agent_id=agent_id, conversation_id=conversation["id"])
        return conversation

    def agent_note(self, ticket_id: int, body: str, *, agent_id: int) -> dict[str, Any]:
        """An agent adds a private note in Freshdesk's UI: the "private note is added" rule fires."""
        with self._changed:
            ticket = self.tickets[ticket_id]
            note = self.records.conversation(ticket_id, body, private=True, incoming=False, user_id=agent_id)
            self._changed.notify_all()
        self._fire(ticket, "note", body=body, agent_id=agent_id, conversation_id=note["id"])
        return note

    def agent_set_status(self, ticket_id: int, status: int, *, agent_id: int) -> None:
        with self._changed:
            ticket = self.tickets[ticket_id]
            ticket["status"] = status
            ticket["updated_at"] = now_iso()
            self._changed.notify_all()
        self._fire(ticket, "status", agent_id=agent_id)

    def wait_webhooks(self) -> None:
        for thread in list(self._webhook_threads):
            thread.join(timeout=10)

    def _fire(
        self,
        ticket: dict[str, Any],
        event: str,
        *,
        body: str = "",
        agent_id: int | None = None,
        conversation_id: int | None = None,
    ) -> None:
        if self.webhook_url is None:
            return
        payload = {
            "ticket_id": str(ticket["id"]),
            "event": event,
            "status": STATUS_NAMES.get(ticket["status"], str(ticket["status"])),
            "body": body,
            "agent_email": self.agents.get(agent_id or 0, ""),
            "agent_id": str(agent_id or ""),
            "conversation_id": str(conversation_id or ""),
        }
        headers = {self.webhook_header: self.webhook_secret or ""}
        url = self.webhook_url

        def post() -> None:
            try:
                status = httpx.post(url, json=payload, headers=headers, timeout=10).status_code
            except httpx.HTTPError:
                status = 0
            with self._changed:
                self.webhooks.append((payload, status))
                self._changed.notify_all()

        thread = threading.Thread(target=post, daemon=True)
        self._webhook_threads.append(thread)
        thread.start()

    # --- dispatch ---------------------------------------------------------------------------

    def _route_of(self, request: Request) -> str:
        path = request.path
        if (m := _TICKET_SUB.match(path)) is not None:
            return f"{request.method} tickets/{m.group(2)}"
        if _TICKET.match(path):
            return f"{request.method} ticket"
        return f"{request.method} {path.removeprefix('/api/v2/')}"

    def _rate(self, request: Request, route: str) -> tuple[Reply | None, dict[str, str]]:
        now = time.monotonic()
        if now - self._window_start >= self.window_seconds:
            self._window_start, self._used, self._creates = now, 0, 0
        retry = str(max(1, math.ceil(self._window_start + self.window_seconds - now)))
        self._used += 1
        headers = {
            "X-RateLimit-Total": str(self.per_window),
            "X-RateLimit-Remaining": str(max(0, self.per_window - self._used)),
            "X-RateLimit-Used-CurrentRequest": "1",
        }
        if self._used > self.per_window:
            self.throttled += 1
            return Reply(
                429,
                {"message": "You have exceeded the limit of requests per minute"},
                {**headers, "Retry-After": retry},
            ), headers
        if route == "POST tickets":
            self._creates += 1
            if self._creates > self.create_cap:
                self.throttled += 1
                return Reply(
                    429,
                    {"message": "You have exceeded the limit of requests per minute"},
                    {**headers, "Retry-After": retry},
                ), headers
        return None, headers

    def _authorised(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user = base64.b64decode(value).decode("utf-8").partition(":")[0]
        except ValueError:
            return False
        return user == self.api_key

    def _dispatch(self, request: Request) -> tuple[str, dict[str, Any], Reply]:
        route = self._route_of(request)
        limited, headers = self._rate(request, route)
        if limited is not None:
            return route, {}, limited
        if not self._authorised(request):
            body = {
                "code": "invalid_credentials",
                "message": "You have to be logged in to perform this action.",
            }
            return route, {}, Reply(401, body, headers)
        try:
            args = request.json() if request.body else {}
        except ValueError:
            return route, {}, Reply(400, {"description": "Invalid JSON"}, headers)
        try:
            status, body = self._answer(request, route, args)
        except Invalid as exc:
            status, body = exc.status, exc.body
        return route, args if isinstance(args, dict) else {}, Reply(status, body, headers)

    def _answer(self, request: Request, route: str, args: Any) -> tuple[int, Any]:
        path, query = request.path, request.query
        if route == "POST tickets":
            return 201, self.records.create_ticket(args)
        if route == "GET tickets":
            requester = int(query["requester_id"]) if "requester_id" in query else None
            return 200, [dict(t) for t in self.tickets.values() if requester in (None, t["requester_id"])]
        if route == "GET search/tickets":
            tags = _SEARCH_TAG.findall(query.get("query", ""))
            found = [dict(t) for t in self.tickets.values() if all(tag in t["tags"] for tag in tags)]
            return 200, {"results": found, "total": len(found)}
        if route == "POST contacts":
            return 201, self.records.create_contact(args)
        if route == "GET contacts":
            uid = query.get("unique_external_id")
            return 200, [dict(c) for c in self.contacts.values() if uid in (None, c["unique_external_id"])]
        if (m := _TICKET.match(path)) is not None:
            ticket = self.records.ticket(int(m.group(1)))
            if request.method == "GET":
                return 200, dict(ticket)
            if request.method == "PUT":
                before = ticket["status"]
                updated = self.records.update(ticket, args)
                if ticket["status"] != before:  # the "Status is changed" rule fires for API updates too
                    self._fire(ticket, "status")
                return 200, updated
        if (m := _TICKET_SUB.match(path)) is not None:
            ticket = self.records.ticket(int(m.group(1)))
            what = m.group(2)
            if what == "conversations" and request.method == "GET":
                return 200, [dict(c) for c in self.conversations.get(ticket["id"], [])]
            if request.method == "POST" and what in ("notes", "reply"):
                text = args.get("body") if isinstance(args, dict) else None
                if not isinstance(text, str) or not text.strip():
                    raise validation_error("body", "It should be a non-empty string", "missing_field")
                if what == "reply":
                    self.records.email(ticket, text)
                    return 201, self.records.conversation(
                        ticket["id"], text, private=False, incoming=False, user_id=None
                    )
                note = self.records.conversation(
                    ticket["id"],
                    text,
                    private=bool(args.get("private", True)),
                    incoming=bool(args.get("incoming", False)),
                    user_id=args.get("user_id"),
                )
                if note["private"]:  # the "private note is added" rule fires for API notes too
                    self._fire(ticket, "note", body=text, conversation_id=note["id"])
                return 201, note
        raise Invalid(404, {"description": "Resource not found", "errors": []})
