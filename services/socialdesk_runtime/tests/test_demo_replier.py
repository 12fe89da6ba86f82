"""The demo's replier answers as the ticket's owner at the time of the answer."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from socialdesk_runtime.stack.demo import DemoStats, Replier
from socialdesk_schemas import TicketAssigned, TicketQueued, TicketResolved

TOKENS = {"ana": "t-ana", "ben": "t-ben"}


_NOW = datetime(2026, 1, 1, 9, tzinfo=UTC)


def _envelope(ticket_id: uuid.UUID) -> dict[str, Any]:
    """What every event the assigner publishes about ``ticket_id`` carries."""
    return {
        "producer": "assigner",
        "occurred_at": _NOW,
        "ticket_id": ticket_id,
        "correlation_id": uuid.uuid4(),
    }


def _assigned(ticket_id: uuid.UUID, agent: str, reason: Any = "round_robin") -> TicketAssigned:
    return TicketAssigned(
        **_envelope(ticket_id),
        brand="ourbus",
        platform="x",
        agent_id=agent,
        agent_level="L1",
        priority="high",
        received_at=_NOW,
        reason=reason,
    )


async def _desk(owner: dict[str, str], seen: list[str]) -> tuple[str, uvicorn.Server, asyncio.Task[None]]:
    """A desk that accepts a reply only from the ticket's owner, as the real one does."""

    async def reply(request: Request) -> JSONResponse:
        who = request.headers["authorization"].removeprefix("Bearer t-")
        seen.append(who)
        if who != owner["now"]:
            return JSONResponse({"detail": "ticket is owned by another agent"}, status_code=403)
        return JSONResponse({"reply_id": str(uuid.uuid4())}, status_code=201)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = Starlette(routes=[Route("/v1/tickets/{ticket_id}/reply", reply, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, task


async def _run_until(
    replier: Replier, done: Callable[[], bool], server: uvicorn.Server, task: asyncio.Task[None]
) -> None:
    """Run the replier until ``done()`` (at most 5 s), then stop it and the desk."""
    stop = asyncio.Event()
    running = asyncio.create_task(replier.run(stop))
    for _ in range(100):
        if done():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await running
    server.should_exit = True
    await task


async def test_a_ticket_that_changed_hands_is_answered_by_its_new_owner() -> None:
    owner = {"now": "ben"}  # escalated from ana to ben before the answer
    seen: list[str] = []
    url, server, task = await _desk(owner, seen)
    stats = DemoStats()
    replier = Replier(url, TOKENS, stats, ratio=1.0, delay_s=(0.05, 0.05))
    ticket = uuid.uuid4()
    replier.offer(_assigned(ticket, "ana"))

    def late_escalation() -> bool:
        if seen == ["ana"] and len(replier._owner) == 1 and replier._owner[ticket] == "ana":
            replier.offer(_assigned(ticket, "ben", "escalation"))  # arrives after the refusal
        return bool(stats.replies_sent or stats.replies_failed)

    await _run_until(replier, late_escalation, server, task)
    assert seen == ["ana", "ben"]
    assert (stats.replies_sent, stats.replies_failed) == (1, 0), stats.errors


async def test_a_refusal_that_is_not_a_change_of_hands_is_a_failure_with_its_reason() -> None:
    owner = {"now": "someone-else"}
    seen: list[str] = []
    url, server, task = await _desk(owner, seen)
    stats = DemoStats()
    replier = Replier(url, TOKENS, stats, ratio=1.0, delay_s=(0.05, 0.05))
    replier.offer(_assigned(uuid.uuid4(), "ana"))
    await _run_until(replier, lambda: bool(stats.replies_failed), server, task)
    assert seen == ["ana"] and stats.replies_failed == 1
    assert "as ana said 403" in stats.errors[-1]


async def test_a_stop_while_waiting_for_the_new_owner_is_not_a_failure() -> None:
    """Refused (the ticket changed hands), the replier waits a second for the new assignment;
    the demo stopping meanwhile leaves the answer unmade, and counts no failure."""
    owner = {"now": "ben"}
    seen: list[str] = []
    url, server, task = await _desk(owner, seen)
    stats = DemoStats()
    replier = Replier(url, TOKENS, stats, ratio=1.0, delay_s=(0.05, 0.05))
    replier.offer(_assigned(uuid.uuid4(), "ana"))
    await _run_until(replier, lambda: seen == ["ana"], server, task)  # stops during the wait
    assert seen == ["ana"]
    assert (stats.replies_sent, stats.replies_failed, stats.errors) == (0, 0, [])


def _queued(ticket_id: uuid.UUID) -> TicketQueued:
    return TicketQueued(
        **_envelope(ticket_id),
        brand="ourbus",
        platform="x",
        queue="cx",
        priority="high",
        received_at=_NOW,
        reason="no eligible agent online with capacity",
    )


def _resolved(ticket_id: uuid.UUID) -> TicketResolved:
    return TicketResolved(
        **_envelope(ticket_id),
        brand="ourbus",
        agent_id="ana",
        resolved_at=_NOW,
        root_cause="answered",
    )


async def test_owners_are_forgotten_when_a_ticket_is_queued_or_resolved_and_nobody_answers() -> None:
    owner = {"now": "ana"}
    seen: list[str] = []
    url, server, task = await _desk(owner, seen)
    stats = DemoStats()
    replier = Replier(url, TOKENS, stats, ratio=1.0, delay_s=(0.3, 0.3))
    queued, resolved = uuid.uuid4(), uuid.uuid4()
    for ticket in (queued, resolved):
        replier.offer(_assigned(ticket, "ana"))
    replier.offer(_queued(queued))
    replier.offer(_resolved(resolved))
    assert replier._owner == {}, "nothing kept for tickets nobody owns"
    clock = asyncio.get_running_loop().time
    until = clock() + 0.8
    await _run_until(replier, lambda: clock() > until, server, task)
    assert seen == [] and (stats.replies_sent, stats.replies_failed) == (0, 0)
