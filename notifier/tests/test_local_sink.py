"""The labelled local sink: what it writes, and that a crash after its write is found."""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from socialdesk_notifier.domain import Delivery
from socialdesk_notifier.senders.local import LocalSink

NOW = datetime(2026, 1, 1, 9, tzinfo=UTC)


def owed(key: str) -> Delivery:
    return Delivery(
        id=uuid.uuid4(),
        idempotency_key=key,
        source_event_id=uuid.uuid4(),
        source_event_type="ReplyRequested",
        ticket_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        channel="whatsapp",
        destination="447700900123",
        payload={"text": "Your bus leaves at 9:15."},
        attempts=1,
        lease_until=None,
        created_at=NOW,
    )


async def test_a_sent_key_is_labelled_and_found_again_and_another_is_not(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path / "out" / "sink.jsonl")
    assert await sink.find_sent(owed("k-1"), since=NOW) is None  # no file yet
    result = await sink.send(owed("k-1"))
    assert (result.ok, result.external_ref) == (True, "local:k-1")
    (record,) = [json.loads(line) for line in (tmp_path / "out" / "sink.jsonl").read_text().splitlines()]
    assert record["sink"].startswith("LOCAL SINK")
    assert (record["destination"], record["text"]) == ("447700900123", "Your bus leaves at 9:15.")
    assert await sink.find_sent(owed("k-1"), since=NOW) == "local:k-1"
    assert await sink.find_sent(owed("k-2"), since=NOW) is None
