"""After a fault: did every acknowledged message become exactly one ticket, every due timer
fire once and never early, every page go out exactly once, and each ticket's order hold?

Evidence comes from outside the services: what intake answered (the traffic), what the
desk API says, what Slack (the fake) received, and the ``sla.events`` log on the broker.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer

from socialdesk_schemas import TOPICS
from tests.faults.stack import SLACK_TOKEN, FaultStack
from tests.faults.traffic import AGENT_TOKENS, LEAD, REPLY_TEXT, Traffic
from tests.support import TEST_ENV

__all__ = ["Verdict", "check", "secrets_in_logs"]

LEAD_CHANNEL = "C0OBLEAD"  # the OurBus lead (L3): the page of a first-response breach
PAGE_CHANNELS = ("C0OBLEAD", "C0OBMGR", "C0TMT")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Verdict:
    fault: str
    accepted: int = 0
    ticketed: int = 0
    paged: int = 0
    replied: int = 0
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def lost(self) -> int:
        return sum(len(v) for k, v in self.problems.items() if k.startswith("lost"))

    @property
    def doubled(self) -> int:
        return sum(len(v) for k, v in self.problems.items() if k.startswith("doubled"))

    @property
    def wrong(self) -> int:
        return sum(len(v) for k, v in self.problems.items() if not k.startswith(("lost", "doubled")))

    def line(self) -> str:
        return (
            f"{self.fault}: accepted={self.accepted} ticketed={self.ticketed} paged={self.paged} "
            f"replied={self.replied} lost={self.lost} doubled={self.doubled} other={self.wrong}"
        )

    def explain(self) -> str:
        return "\n".join(
            f"  {kind}: {len(items)} e.g. {items[:5]}" for kind, items in self.problems.items() if items
        )


def _pages(stack: FaultStack) -> dict[tuple[str, str], int]:
    """(ticket, channel) -> how many posts Slack received about it."""
    counts: Counter[tuple[str, str]] = Counter()
    for post in stack.slack.posts:
        channel = str(post.get("channel"))
        if channel not in PAGE_CHANNELS:
            continue
        for ticket in set(_UUID.findall(json.dumps(post))):
            counts[(ticket, channel)] += 1
    return counts


async def _sla_events(bootstrap: str) -> list[dict[str, Any]]:
    """Every distinct event on sla.events, in the order a consumer first sees it."""
    consumer = AIOKafkaConsumer(
        TOPICS.sla.name, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: dict[str, dict[str, Any]] = {}
    try:
        idle = 0
        while idle < 8:  # 8 empty polls of 0.4 s in a row: the log has been read to its end
            batch = await consumer.getmany(timeout_ms=400)
            records = [r for rs in batch.values() for r in rs]
            idle = idle + 1 if not records else 0
            for r in records:
                data = orjson.loads(r.value or b"{}")
                seen.setdefault(str(data.get("event_id")), {**data, "_partition": r.partition})
    finally:
        await consumer.stop()
    return list(seen.values())


def secrets_in_logs(stack: FaultStack, *, extra: tuple[str, ...] = ()) -> list[str]:
    """``file: secret name`` for every secret of the test environment found in a log file.

    Every log the scenario's stack wrote: the five services', the broker's, PostgreSQL's.
    """
    secrets = {name: value for name, value in TEST_ENV.items() if len(value) >= 6}
    secrets |= {"TEST_SLACK_TOKEN": SLACK_TOKEN, "Bearer tok-lead": LEAD["Authorization"].split()[1]}
    secrets |= {f"token of {agent}": token for agent, token in AGENT_TOKENS.items()}
    for i, value in enumerate(extra):
        secrets[f"extra #{i}"] = value
    found: list[str] = []
    for path in stack.log_files:
        text = path.read_text(errors="replace")
        for name, value in secrets.items():
            for piece in value.split(","):  # a list of API keys is several secrets
                if piece and piece in text:
                    found.append(f"{path.name}: {name}")
    return found


def _ticket_ok(desk: httpx.Client, ticket: str) -> bool:
    try:
        return desk.get(f"/v1/tickets/{ticket}", headers=LEAD).status_code == 200
    except httpx.HTTPError:
        return False


def _replies(stack: FaultStack) -> Counter[tuple[str, str]]:
    """(customer's X id, text) -> how many DMs X accepted with that text to that customer."""
    return Counter((str(send.participant_id), str(send.payload.get("text"))) for send in stack.x.dms)


def _judge_replies(stack: FaultStack, traffic: Traffic, v: Verdict, deadline: float) -> None:
    """Every reply the desk accepted reached the customer on X exactly once; nothing else did.

    Auto-replies (the classifier's saved answers) may go out too: each at most once.
    """
    owed = {traffic.customers[t] for t in traffic.answered if t in traffic.customers}
    while time.monotonic() < deadline:
        sent = _replies(stack)
        if all(sent[(c, REPLY_TEXT)] for c in owed):
            break
        time.sleep(0.5)
    time.sleep(4.0)  # a lease and then some: a second send would be visible by now
    sent = _replies(stack)
    v.replied = sum(1 for c in owed if sent[(c, REPLY_TEXT)])
    v.problems["lost: reply accepted by the desk, never sent"] += sorted(
        c for c in owed if not sent[(c, REPLY_TEXT)]
    )
    v.problems["doubled: a reply sent twice"] += [f"{c}x{n}" for (c, _t), n in sent.items() if n > 1]
    maybe = {traffic.customers[t] for t in traffic.uncertain if t in traffic.customers}
    v.problems["wrong: a reply nobody wrote"] += sorted(
        c for (c, text), _n in sent.items() if text == REPLY_TEXT and c not in owed | maybe
    )


def check(stack: FaultStack, traffic: Traffic, fault: str, *, settle_s: float = 180.0) -> Verdict:
    """Wait (up to ``settle_s``) for the system to finish its work, then judge it."""
    v = Verdict(fault)
    v.accepted = len(traffic.accepted)
    tickets = traffic.tickets
    unanswered = tickets - traffic.answered - traffic.uncertain
    for pmid, ids in traffic.accepted.items():
        if len(ids) > 1:
            v.problems["doubled: one message, several tickets"].append(f"{pmid}: {sorted(ids)}")

    # Every unanswered ticket must page the lead: wait for it, then give it a lease more
    # (a duplicate would show by then).
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        pages = _pages(stack)
        if all((t, LEAD_CHANNEL) in pages for t in unanswered):
            break
        time.sleep(0.5)
    time.sleep(4.0)  # one delivery lease (3 s) and then some: a second send would be visible
    pages = _pages(stack)

    with httpx.Client(base_url=stack.url("assigner"), timeout=5) as desk:
        missing = [t for t in sorted(tickets) if not _ticket_ok(desk, t)]
    v.ticketed = len(tickets) - len(missing)
    v.problems["lost: acknowledged, no ticket at the desk"] += missing

    _judge_replies(stack, traffic, v, deadline)

    v.paged = len({t for (t, ch) in pages if ch == LEAD_CHANNEL and t in tickets})
    v.problems["lost: unanswered, never paged"] += [
        t for t in sorted(unanswered) if (t, LEAD_CHANNEL) not in pages
    ]
    v.problems["doubled: paged twice in one channel"] += [
        f"{t}@{ch}x{n}" for (t, ch), n in pages.items() if n > 1
    ]

    events = asyncio.run(_sla_events(stack.kafka.bootstrap_servers))
    breaches: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    armed: dict[tuple[str, str], int] = {}
    for i, e in enumerate(events):
        key = (str(e.get("ticket_id")), str(e.get("metric") or e.get("clock") or ""))
        if e.get("event_type") == "SlaClockArmed":
            armed.setdefault(key, i)
        if e.get("event_type") == "SlaBreached":
            breaches[key].append(e)
            if key in armed and armed[key] > i:
                v.problems["order: breach seen before its clock was armed"].append(key[0])
            if datetime.fromisoformat(e["breached_at"]) < datetime.fromisoformat(e["deadline"]):
                v.problems["early: breach before its deadline"].append(key[0])
    v.problems["doubled: a timer fired twice"] += [
        f"{t}/{m}" for (t, m), bs in breaches.items() if len(bs) > 1
    ]
    fired = {t for (t, m) in breaches if m == "first_response"}
    v.problems["lost: unanswered, first-response timer never fired"] += [
        t for t in sorted(unanswered) if t not in fired
    ]
    return v
