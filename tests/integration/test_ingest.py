"""ingest against real PostgreSQL, booted through its real bootstrap: intake over HTTP,
threading, duplicates, bad input, metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.topology import wiring_problems
from socialdesk_schemas import MessageReceived
from socialdesk_schemas.platforms import MESSAGES_TOPIC_EVENTS
from tests.support import Booted, booted, config_for_tests, count, uid

pytestmark = pytest.mark.integration

KEY = {"X-API-Key": "key-two"}


@dataclass
class Intake:
    svc: Booted
    clock: FakeClock

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.svc.client.post(
            "/v1/messages", content=content, headers=KEY if headers is None else headers
        )

    async def count(self, table: str) -> int:
        return await count(self.svc.engine, table)


@pytest.fixture
async def intake(fresh_db: str) -> AsyncIterator[Intake]:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, settings={"conversation_idle_seconds": 3600}) as svc:
        yield Intake(svc, clock)


def message(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "brand": "ourbus",
        "platform": "instagram",
        "kind": "dm",
        "platform_message_id": f"m-{uid()}",
        "author": {"platform_user_id": "u-1", "handle": "maple_fan", "followers": 120},
        "text": "Is there wifi on the NYC to DC bus?",
    }
    body.update(over)
    return body


async def test_accepted_message_is_stored_and_published_once(intake: Intake) -> None:
    body = message()
    first = await intake.post(body)
    assert first.status_code == 202, first.text
    again = await intake.post(body)  # the platform retried
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["ticket_id"] == first.json()["ticket_id"]
    events = await intake.svc.emitted()
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, MessageReceived)
    assert str(event.ticket_id) == first.json()["ticket_id"]
    assert event.opens_ticket and event.author.followers == 120
    assert await intake.count("raw_deliveries") == 1


async def test_dm_thread_continues_its_ticket_until_idle(intake: Intake) -> None:
    a = (await intake.post(message())).json()
    b = (await intake.post(message(text="hello??"))).json()
    assert b["ticket_id"] == a["ticket_id"] and b["opens_ticket"] is False
    other = (await intake.post(message(author={"platform_user_id": "u-2"}))).json()
    assert other["ticket_id"] != a["ticket_id"]
    public = (await intake.post(message(kind="comment"))).json()
    assert public["ticket_id"] != a["ticket_id"], "a public comment is not the DM thread"
    intake.clock.advance(seconds=3601)
    later = (await intake.post(message(text="back again"))).json()
    assert later["ticket_id"] != a["ticket_id"] and later["opens_ticket"] is True


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer nope"}, {"X-API-Key": ""}],
    ids=["missing", "wrong", "wrong-bearer", "empty"],
)
async def test_missing_or_wrong_api_key_is_401_and_writes_nothing(
    intake: Intake, headers: dict[str, str]
) -> None:
    response = await intake.post(message(), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert await intake.count("messages") == 0
    assert await intake.count("raw_deliveries") == 0


async def test_bearer_api_key_is_accepted(intake: Intake) -> None:
    response = await intake.post(message(), headers={"Authorization": "Bearer key-one"})
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"brand": "ourbus", ', "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps(message(platform="myspace")).encode(), "platform"),
        (json.dumps(message(kind="story")).encode(), "kind"),
        (json.dumps({k: v for k, v in message().items() if k != "text"}).encode(), "text"),
        (json.dumps(message(author={"followers": -3})).encode(), "author"),
        (
            json.dumps(message(author={"platform_user_id": "u", "followers": 3_000_000_000})).encode(),
            "followers",
        ),
        (json.dumps(message(brand="greyhound")).encode(), "greyhound"),
    ],
    ids=[
        "truncated",
        "array",
        "platform",
        "kind",
        "no-text",
        "bad-author",
        "huge-followers",
        "unknown-brand",
    ],
)
async def test_malformed_body_is_400_with_a_reason_and_writes_nothing(
    intake: Intake, body: bytes, reason: str
) -> None:
    response = await intake.post(body)
    assert response.status_code == 400
    assert reason in json.dumps(response.json())
    assert await intake.count("messages") == 0
    assert await intake.count("outbox") == 0


async def test_body_over_one_mebibyte_is_413_declared_or_streamed(intake: Intake) -> None:
    big = json.dumps(message(text="x" * (1024 * 1024))).encode()
    assert (await intake.post(big)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 64 * 1024):
            yield big[i : i + 64 * 1024]

    streamed = await intake.svc.client.post("/v1/messages", content=chunks(), headers=KEY)
    assert streamed.status_code == 413
    assert await intake.count("messages") == 0


async def test_broken_text_from_platforms_is_kept_not_lost(intake: Intake) -> None:
    # A lone surrogate (a split emoji) and a NUL: PostgreSQL cannot store either as is.
    raw = json.dumps(message(text="late again \ud83d and\u0000 rude")).encode()
    response = await intake.post(raw)
    assert response.status_code == 202, response.text
    (event,) = await intake.svc.emitted()
    assert isinstance(event, MessageReceived)
    assert event.text == "late again \ufffd and rude"


async def test_concurrent_requests_share_transactions_and_thread_correctly(intake: Intake) -> None:
    same_thread = [message(author={"platform_user_id": "u-busy"}, text=f"msg {i}") for i in range(5)]
    others = [message(author={"platform_user_id": f"u-{i}"}) for i in range(20)]
    dup = others[3]
    responses = await asyncio.gather(*(intake.post(b) for b in [*same_thread, *others, dup]))
    assert all(r.status_code in (200, 202) for r in responses), [r.text for r in responses]
    bodies = [r.json() for r in responses]
    thread_tickets = {b["ticket_id"] for b in bodies[:5]}
    assert len(thread_tickets) == 1, "one DM thread is one ticket, however its messages were batched"
    assert sum(b["opens_ticket"] for b in bodies[:5]) == 1
    assert len({b["ticket_id"] for b in bodies[5:25]}) == 20
    assert sorted(b["status"] for b in (bodies[8], bodies[25])) == ["accepted", "duplicate"]
    assert await intake.count("messages") == 25
    assert len(await intake.svc.emitted()) == 25
    # Each message points at the very bytes it arrived as, however the batch was stored.
    async with intake.svc.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT m.platform_message_id, r.body FROM messages m"
                    " JOIN raw_deliveries r ON r.id = m.raw_delivery_id"
                )
            )
        ).all()
    assert len(rows) == 25
    assert all(json.loads(bytes(body))["platform_message_id"] == mid for mid, body in rows)


async def test_a_customer_is_one_row_with_the_newest_profile(intake: Intake) -> None:
    await intake.post(message(author={"platform_user_id": "u-7", "handle": "old", "followers": 5}))
    await intake.post(message(author={"platform_user_id": "u-7", "handle": "new", "followers": 9}))
    async with intake.svc.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT handle, followers FROM customers"))).all()
    assert [tuple(r) for r in rows] == [("new", 9)]
    first, second = await intake.svc.emitted()
    assert isinstance(first, MessageReceived) and isinstance(second, MessageReceived)
    assert first.customer_id == second.customer_id and first.conversation_id == second.conversation_id


async def test_outcomes_are_counted_by_platform(intake: Intake) -> None:
    body = message()
    await intake.post(body)
    await intake.post(body)
    await intake.post(body, headers={})
    await intake.post(b"[]")
    exposed = (await intake.svc.client.get("/metrics")).text
    counted = {
        (sample.labels["outcome"], sample.labels["platform"]): sample.value
        for family in text_string_to_metric_families(exposed)
        if family.name == "ingest_messages_received"
        for sample in family.samples
        if sample.name == "ingest_messages_received_total"
    }
    assert counted == {
        ("accepted", "instagram"): 1,
        ("duplicate", "instagram"): 1,
        ("unauthorized", "unknown"): 1,
        ("invalid", "unknown"): 1,
    }


async def test_wiring_declares_what_ingest_publishes(intake: Intake) -> None:
    parts = intake.svc.parts
    assert list(parts.emits) == [MessageReceived, *MESSAGES_TOPIC_EVENTS]
    assert wiring_problems(SPEC.name, parts.handlers, parts.emits) == []


async def test_refuses_to_start_without_api_keys(fresh_db: str) -> None:
    config = config_for_tests({"TEST_INGEST_API_KEYS": " , "})
    with pytest.raises(SystemExit, match="TEST_INGEST_API_KEYS"):
        async with booted(SPEC, fresh_db, config=config):
            pass


async def test_two_replicas_store_a_message_once_and_a_thread_as_one_ticket(fresh_db: str) -> None:
    async with (
        booted(SPEC, fresh_db, clock=FakeClock()) as one,
        booted(SPEC, fresh_db, clock=FakeClock()) as two,
    ):
        resent = message(author={"platform_user_id": "u-race"})
        same_thread = [message(author={"platform_user_id": "u-race"}, text=f"msg {i}") for i in range(4)]
        posts = [
            svc.client.post("/v1/messages", json=body, headers=KEY)
            for body in [resent, *same_thread]
            for svc in (one, two)
        ]
        bodies = [r.json() for r in await asyncio.gather(*posts)]
        assert sorted(b["status"] for b in bodies[:2]) == ["accepted", "duplicate"]
        assert len({b["ticket_id"] for b in bodies}) == 1, "one DM thread is one ticket across replicas"
        assert sum(b["opens_ticket"] for b in bodies) == 1
        assert await count(one.engine, "messages") == 5
        assert len(await one.emitted()) == 5
