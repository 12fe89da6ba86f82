"""``socialdesk replay``: stored webhook deliveries extracted again, idempotently, through
the real CLI command against real PostgreSQL (run in a thread: the command owns its loop)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_ingest.cli import app
from socialdesk_ingest.domain.platforms import meta_signature
from socialdesk_ingest.extraction_worker import ExtractionWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import MessageReceived
from tests.support import TEST_CONFIG, TEST_ENV, Booted, booted, count, uid

pytestmark = pytest.mark.integration

PAGE = "730011223344556"


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


def dm(mid: str) -> bytes:
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "time": 1,
                    "messaging": [
                        {
                            "sender": {"id": "61"},
                            "recipient": {"id": PAGE},
                            "timestamp": 1767225600050,
                            "message": {"mid": mid, "text": "hello"},
                        }
                    ],
                }
            ],
        }
    ).encode()


def run_replay(url: str, since: str = "1d") -> str:
    result = CliRunner().invoke(
        app, ["replay", "--since", since, "--database-url", url, "--config", str(TEST_CONFIG)]
    )
    assert result.exit_code == 0, result.output
    return result.output


async def test_replay_is_idempotent_and_extracts_what_was_never_extracted(svc: Booted, fresh_db: str) -> None:
    mids = [f"m_{uid()}" for _ in range(3)]
    for mid in mids:
        raw = dm(mid)
        sig = {"X-Hub-Signature-256": meta_signature(raw, TEST_ENV["TEST_META_APP_SECRET"])}
        assert (await svc.client.post("/v1/webhooks/meta", content=raw, headers=sig)).status_code == 200
    (worker,) = (w for w in svc.parts.workers if isinstance(w, ExtractionWorker))
    while await worker.run_once():
        pass
    first = [e for e in await svc.emitted() if isinstance(e, MessageReceived)]
    assert len(first) == 3
    # Lose the second message (as if a bug had dropped it): replay brings it back, once.
    async with svc.engine.begin() as conn:
        await conn.execute(text("DELETE FROM messages WHERE platform_message_id = :m"), {"m": mids[1]})
    output = await asyncio.to_thread(run_replay, fresh_db)
    assert "replayed 3 deliveries" in output and "1 new messages" in output
    (again,) = await svc.emitted()
    assert isinstance(again, MessageReceived) and again.platform_message_id == mids[1]
    output = await asyncio.to_thread(run_replay, fresh_db)
    assert "0 new messages" in output and await svc.emitted() == []
    assert await count(svc.engine, "messages") == 3
    # Only deliveries received since the time given are replayed.
    assert "replayed 0 deliveries" in await asyncio.to_thread(run_replay, fresh_db, "2999-01-01T00:00Z")
