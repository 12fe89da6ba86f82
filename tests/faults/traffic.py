"""Customers and agents for a fault scenario: a steady replay of messages, some answered.

The replayer behaves like a platform delivering webhooks: it retries a message (same
platform message id) until intake acknowledges it with 202, through crashes and outages.
What intake acknowledged is the record the checker holds the system to.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import httpx

__all__ = ["AGENT_TOKENS", "REPLY_TEXT", "Traffic"]

REPLY_TEXT = "So sorry: the bus left the depot late, it is 10 minutes out."

AGENT_TOKENS = {
    "ob-ana": "tok-ana",
    "ob-ben": "tok-ben",
    "ob-dee": "tok-dee",
    "ob-lead": "tok-lead",
    "ob-mgr": "tok-mgr",
}
LEAD = {"Authorization": "Bearer tok-lead"}
API_KEY = {"X-API-Key": "key-one"}


@dataclass
class Traffic:
    """Posts ``count`` messages at ``rate`` per second in a thread; answers a share of them."""

    ingest_url: str
    desk_url: str
    count: int
    rate: float
    answer_share: float = 0.3
    seed: int = 7
    accepted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """platform message id -> ticket ids intake answered with (more than one: doubled)."""
    answered: set[str] = field(default_factory=set)
    """tickets an agent replied to (the desk accepted the reply)."""
    uncertain: set[str] = field(default_factory=set)
    """tickets whose reply got no answer (the desk died mid-request): maybe answered."""
    customers: dict[str, str] = field(default_factory=dict)
    """ticket id -> the customer's X user id (where the ticket's replies go)."""
    attempts: int = 0
    error: BaseException | None = None
    refusals: list[str] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _to_answer: list[str] = field(default_factory=list)
    _tries: dict[str, int] = field(default_factory=dict)
    _next_answer: float = 0.0

    def start(self) -> Traffic:
        self._thread = threading.Thread(target=self._run_recording_errors, name="fault-traffic", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the replay did not finish in time"
        if self.error is not None:
            raise AssertionError(f"the replay failed: {self.error!r}") from self.error

    def _run_recording_errors(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # surfaced by join(): a dead thread must not pass for a finished one
            self.error = exc

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    @property
    def tickets(self) -> set[str]:
        return {t for ids in self.accepted.values() for t in ids}

    def _run(self) -> None:
        rng = random.Random(self.seed)
        with (
            httpx.Client(base_url=self.ingest_url, headers=API_KEY, timeout=5) as intake,
            httpx.Client(base_url=self.desk_url, timeout=5) as desk,
        ):
            started = time.monotonic()
            for i in range(self.count):
                if self._stop.is_set():
                    return
                # Keep the pace: a message is due at i / rate, however long the last took.
                due = started + i / self.rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                ticket = self._deliver(intake, i)
                if ticket is not None and rng.random() < self.answer_share:
                    self._to_answer.append(ticket)
                self._answer_some(desk)
            deadline = time.monotonic() + 120
            while self._to_answer and time.monotonic() < deadline and not self._stop.is_set():
                self._answer_some(desk)
                time.sleep(0.2)

    def _deliver(self, intake: httpx.Client, i: int) -> str | None:
        pmid = f"faults-{uuid.uuid4().hex}"
        # X user ids are numeric: a reply goes to /2/dm_conversations/with/<id>/messages.
        customer = str(uuid.uuid4().int % 10**15)
        body = {
            "brand": "ourbus",
            "platform": "x",
            "kind": "dm",
            "platform_message_id": pmid,
            "author": {"platform_user_id": customer, "followers": 12},
            "text": f"My bus #{i} to Boston is 40 minutes late and nobody tells us anything",
        }
        delay = 0.1
        while not self._stop.is_set():
            self.attempts += 1
            try:
                response = intake.post("/v1/messages", json=body)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 202:
                ticket = str(response.json()["ticket_id"])
                self.accepted[pmid].add(ticket)
                self.customers[ticket] = customer
                return ticket
            if response is not None and response.status_code == 200:
                # intake says it had this message already (a retry after a lost answer)
                ticket = str(response.json().get("ticket_id") or "")
                if ticket:
                    self.accepted[pmid].add(ticket)
                    self.customers[ticket] = customer
                return ticket or None
            if response is not None and response.status_code < 500 and response.status_code not in (408, 429):
                raise AssertionError(f"intake refused a good message: {response.status_code} {response.text}")
            time.sleep(delay)  # a platform's redelivery backoff, capped
            delay = min(delay * 2, 2.0)
        return None

    def _answer_some(self, desk: httpx.Client) -> None:
        """Reply to tickets waiting for an answer once they have an owner (best effort).

        At most twice a second, and each ticket at most 20 looks: the agents must not
        crowd out the customers (a ticket never answered is simply an unanswered one).
        """
        if time.monotonic() < self._next_answer:
            return
        self._next_answer = time.monotonic() + 0.5
        still: list[str] = []
        for ticket in self._to_answer:
            self._tries[ticket] = self._tries.get(ticket, 0) + 1
            if self._tries[ticket] > 20:
                continue
            try:
                got = desk.get(f"/v1/tickets/{ticket}", headers=LEAD)
                owner = got.json().get("agent_id") if got.status_code == 200 else None
            except httpx.HTTPError:
                still.append(ticket)
                continue
            token = AGENT_TOKENS.get(owner or "")
            if token is None:
                still.append(ticket)
                continue
            try:
                reply = desk.post(
                    f"/v1/tickets/{ticket}/reply",
                    json={"text": REPLY_TEXT},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError:
                # The desk may have taken the reply and died before answering: whether
                # this ticket must page is unknown, so the checker leaves it out.
                self.uncertain.add(ticket)
                continue
            if reply.status_code == 202:
                self.answered.add(ticket)
            elif reply.status_code >= 500 or reply.status_code == 409:
                still.append(ticket)
            else:
                self.refusals.append(f"reply {reply.status_code}: {reply.text[:200]}")
        self._to_answer = still
