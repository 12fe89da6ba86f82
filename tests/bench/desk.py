"""The desk's figures (issue 9): ``desk_ticket_p99_ms`` and ``assign_decision_p99_ms``.

- ``desk_ticket_p99_ms``: ``GET /v1/tickets/{id}`` over HTTP (uvicorn on loopback, the
  assigner's real app and bootstrap) for tickets with a ``conversation``-message
  conversation (half customer messages, half replies, with notes, history and SLA
  clocks), in a database holding ``open_tickets`` open tickets owned by ``agents`` agents.
- ``assign_decision_p99_ms``: one classified message routed through the runtime's real
  ``process_batch`` (inbox, the batched handler, routing over the ``agents`` roster with
  their open load, the writes), timed per message, in the same database.

Targets: 50 ms and 20 ms. Run alone: ``python -m tests.bench.desk --open-tickets 2000``.
``make bench`` calls :func:`measure_desk_in_child` (its own PostgreSQL and event loop)
and adds :data:`DESK_KEYS` to its JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.embedded import EmbeddedPostgres
from socialdesk_schemas import MessageClassified
from tests.bench.child import run_child
from tests.support import Booted, booted, served

__all__ = [
    "DESK_KEYS",
    "TARGET_ASSIGN_P99_MS",
    "TARGET_TICKET_P99_MS",
    "measure_desk",
    "measure_desk_in_child",
]

DESK_KEYS = ("desk_ticket_p99_ms", "assign_decision_p99_ms")
TARGET_TICKET_P99_MS = 50.0
TARGET_ASSIGN_P99_MS = 20.0
_BRANDS = ("ourbus", "rally")


def _config(agents: int) -> tuple[SocialdeskConfig, dict[str, str]]:
    """``agents`` agents over two brands (a lead each, the rest L1/L2), each with a token."""
    people: list[dict[str, Any]] = []
    env = {"BENCH_INTAKE_KEYS": "k"}
    for i in range(agents):
        brand = _BRANDS[i % 2]
        level = "L3" if i < 2 else ("L2" if i % 5 == 0 else "L1")
        env[f"T_DESK_{i}"] = f"tok-{i}"
        people.append(
            {
                "id": f"a{i:03d}",
                "name": f"Agent {i}",
                "brands": [brand],
                "level": level,
                "token_env": f"T_DESK_{i}",
                "max_open_tickets": 100000,
            }
        )
    data = {
        "brands": [{"id": b, "name": b.title(), "slack_channels": {"L3": f"C0{b.upper()}"}} for b in _BRANDS],
        "agents": people,
        "intake": {"api_keys_env": "BENCH_INTAKE_KEYS"},
        "saved_replies": {"hello": {"text": {"en": "Hi {customer_name}!"}}},
    }
    config = SocialdeskConfig.model_validate(data)
    config._env = env
    return config, env


_SEED_TICKETS = """
INSERT INTO tickets (ticket_id, brand, platform, kind, queue, category, priority, status, agent_id,
  customer_id, correlation_id, recipient_platform_user_id, last_platform_message_id, received_at,
  message_count, language, group_id, last_activity_at, sla_due_at, watchers)
SELECT gen_random_uuid(), CASE WHEN g % 2 = 0 THEN 'ourbus' ELSE 'rally' END, 'instagram', 'dm', 'cx',
  'complaint', (ARRAY['critical','high','medium','low'])[1 + g % 4], 'assigned',
  'a' || lpad((2 + (g % (:agents - 2)))::text, 3, '0'), gen_random_uuid(), gen_random_uuid(),
  'igsid-' || g, 'm-' || g, now() - (g || ' seconds')::interval, 1, 'en',
  CASE WHEN g % 50 = 0 THEN 'g-' || (g % 500) END, now(), now() + ((g % 7200) || ' seconds')::interval, '{}'
FROM generate_series(1, :n) AS g
"""


async def _seed_conversations(svc: Booted, tickets: list[uuid.UUID], size: int) -> None:
    """Give each of ``tickets`` a ``size``-message conversation, notes, history, clocks."""
    async with svc.engine.begin() as conn:
        for tid in tickets:
            p = {"t": tid, "n": size // 2, "m": size - size // 2}
            await conn.execute(
                text("""
INSERT INTO desk_messages (message_id, ticket_id, direction, platform, kind, platform_message_id,
  author_id, author_name, text, at)
SELECT gen_random_uuid(), :t, 'customer', 'instagram', 'dm', 'pm-' || g, 'igsid', 'Maria',
  repeat('my bus is late again, ', 8), now() - ((1000 - g) || ' seconds')::interval
FROM generate_series(1, :n) g"""),
                p,
            )
            await conn.execute(
                text("""
INSERT INTO replies (reply_id, ticket_id, agent_id, text, created_at, status, status_at, origin)
SELECT gen_random_uuid(), :t, 'a002', repeat('so sorry, we are on it. ', 6),
  now() - ((999 - g) || ' seconds')::interval, 'delivered', now(), 'agent'
FROM generate_series(1, :m) g"""),
                p,
            )
            await conn.execute(
                text("""
INSERT INTO history (ticket_id, at, kind, actor, detail)
SELECT :t, now(), 'AgentReplied', 'a002', '' FROM generate_series(1, :m) g"""),
                p,
            )
            await conn.execute(
                text("""
INSERT INTO notes (note_id, ticket_id, agent_id, text, kind, added_at)
SELECT gen_random_uuid(), :t, 'a002', 'internal note', 'note', now() FROM generate_series(1, 5) g"""),
                p,
            )
            await conn.execute(
                text("""
INSERT INTO sla_clocks (ticket_id, clock, state, due_at, armed_at)
VALUES (:t, 'first_response', 'met', now(), now()), (:t, 'resolution', 'armed', now() + interval '1 day', now())"""),
                p,
            )
        await conn.execute(text("ANALYZE"))


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _message(svc: Booted, i: int) -> MessageClassified:
    now = svc.runtime.clock.now()
    return MessageClassified(
        producer="bench",
        occurred_at=now,
        ticket_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        brand=_BRANDS[i % 2],
        platform="instagram",
        kind="dm",
        received_at=now,
        platform_message_id=f"bm-{i}",
        author_platform_user_id=f"u-{i}",
        queue="cx",
        category="complaint",
        priority="high",
        sentiment="negative",
        language="en",
    )


async def _measure(
    url: str, *, open_tickets: int, agents: int, conversation: int, requests: int
) -> dict[str, Any]:
    config, _ = _config(agents)
    async with booted(SPEC, url, clock=FakeClock(), config=config) as svc:
        async with svc.engine.begin() as conn:
            await conn.execute(text(_SEED_TICKETS), {"n": open_tickets, "agents": agents})
            rows = await conn.execute(text("SELECT ticket_id, brand FROM tickets ORDER BY random() LIMIT 50"))
            targets = [(r.ticket_id, r.brand) for r in rows]
        await _seed_conversations(svc, [t for t, _ in targets], conversation)
        lead = {"ourbus": "tok-0", "rally": "tok-1"}
        page_ms: list[float] = []
        async with served(svc, access_log=False) as base, httpx.AsyncClient(base_url=base) as client:
            for i in range(requests + 20):
                tid, brand = targets[i % len(targets)]
                started = time.perf_counter()
                response = await client.get(
                    f"/v1/tickets/{tid}", headers={"Authorization": f"Bearer {lead[brand]}"}
                )
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200 or len(response.json()["conversation"]) != conversation:
                    raise RuntimeError(f"ticket page: {response.status_code} {response.text[:200]}")
                if i >= 20:  # the first ones warm the pools and caches
                    page_ms.append(elapsed)
        assign_ms: list[float] = []
        for i in range(requests + 20):
            started = time.perf_counter()
            outcome = await svc.feed(_message(svc, i))
            elapsed = (time.perf_counter() - started) * 1000
            if outcome.get("processed") != 1:
                raise RuntimeError(f"routing: {outcome}")
            if i >= 20:
                assign_ms.append(elapsed)
    return {
        "desk_ticket_p99_ms": round(_p99(page_ms), 2),
        "desk_ticket_median_ms": round(statistics.median(page_ms), 2),
        "assign_decision_p99_ms": round(_p99(assign_ms), 2),
        "assign_decision_median_ms": round(statistics.median(assign_ms), 2),
        "desk_open_tickets": open_tickets,
        "desk_agents": agents,
        "desk_conversation_messages": conversation,
    }


def measure_desk(
    *, open_tickets: int = 50_000, agents: int = 200, conversation: int = 50, requests: int = 300
) -> dict[str, Any]:
    """Start a non-durable PostgreSQL, seed it, measure both figures; returns them by key."""
    root = Path(tempfile.mkdtemp(prefix="socialdesk-bench-desk-"))
    server = EmbeddedPostgres(root / "data", durable=False)
    server.start()
    try:
        server.create_database("desk_bench")
        return asyncio.run(
            _measure(
                server.url("desk_bench"),
                open_tickets=open_tickets,
                agents=agents,
                conversation=conversation,
                requests=requests,
            )
        )
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def measure_desk_in_child(
    *, open_tickets: int = 50_000, requests: int = 300, timeout_s: float = 600.0
) -> tuple[dict[str, Any] | None, str]:
    """:func:`measure_desk` in a child process (its own PostgreSQL and event loop, so it
    can run from the bench's async runner); returns (figures or None, a note)."""
    return run_child(
        "tests.bench.desk",
        ["--open-tickets", str(open_tickets), "--requests", str(requests)],
        what="the desk bench",
        timeout_s=timeout_s,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.desk", description=__doc__.splitlines()[0])
    parser.add_argument("--open-tickets", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--conversation", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    figures = measure_desk(
        open_tickets=args.open_tickets,
        agents=args.agents,
        conversation=args.conversation,
        requests=args.requests,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
