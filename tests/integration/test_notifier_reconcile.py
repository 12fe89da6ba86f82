"""Replies that must go out once and only once, through the notifier's real bootstrap
against the Meta and X fakes: a send whose answer was lost (crash, 5xx) settled by its
echo or status before any retry, receipts, re-drive, and no customer data in INFO logs.
Fixtures and helpers come from :mod:`tests.integration.test_notifier_replies`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.cli import run_redrive
from socialdesk_notifier.senders.platforms import PlatformSender
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import load_config
from socialdesk_schemas import NotificationDelivered
from socialdesk_schemas.outbound import DeliveryFailed, DeliverySucceeded, ReplyStatusChanged
from socialdesk_schemas.platforms import OwnMessageSeen, PlatformDeliveryReported
from tests.fakes._http import Fault, Reply
from tests.fakes.meta import FakeMeta
from tests.fakes.x import FakeX
from tests.integration.test_notifier_replies import (  # fixtures too: pytest finds them here
    IG,
    IGSID,
    PSID,
    WA_ID,
    X_CUSTOMER,
    clock_of,
    meta,
    notifier,
    outcome,
    reply,
    worker_of,
    x,
)
from tests.support import TEST_CONFIG, TEST_ENV, Booted, booted, envelope

pytestmark = pytest.mark.integration

__all__ = ["meta", "notifier", "x"]


# --- exactly once: a send whose answer was lost ---------------------------------------------


async def test_a_crash_between_send_and_record_is_settled_by_the_echo_not_a_second_send(
    notifier: Booted, meta: FakeMeta
) -> None:
    worker = worker_of(notifier)
    event = reply(notifier, "messenger", "dm", PSID)
    await notifier.feed(event)
    # The process sends, then dies before recording: the row stays leased.
    (claimed,) = await worker.claim()
    sender = notifier.parts.workers[0]._senders.for_channel("messenger")  # type: ignore[attr-defined]
    assert isinstance(sender, PlatformSender)
    assert (await sender.send(claimed)).ok
    assert len(meta.sends) == 1
    clock_of(notifier).advance(seconds=31)  # the lease runs out; another worker reclaims
    await worker.run_once()
    assert len(meta.sends) == 1, "no echo yet: it waits instead of sending again"
    assert await notifier.emitted() == []
    # ingest sees the echo (Messenger returns our metadata) and publishes OwnMessageSeen.
    (send,) = meta.sends
    echo = OwnMessageSeen.model_validate(
        {
            **envelope(clock_of(notifier)),
            "brand": "ourbus",
            "platform": "messenger",
            "kind": "dm",
            "platform_message_id": send.response["message_id"],
            "recipient_platform_user_id": PSID,
            "text": event.text,
            "delivery_key": f"sd:{event.reply_id}",
        }
    )
    await notifier.feed(echo)
    clock_of(notifier).advance(seconds=10)
    await worker.run_once()
    assert len(meta.sends) == 1
    sent = await outcome(notifier)
    assert isinstance(sent, DeliverySucceeded)
    assert sent.platform_message_id == send.response["message_id"]
    recovered = notifier.runtime.metrics.registry.get_sample_value(
        "notifier_deliveries_recovered_total", {"channel": "messenger"}
    )
    assert recovered == 1


async def test_a_lost_send_with_no_echo_within_the_wait_is_sent_again(
    notifier: Booted, meta: FakeMeta
) -> None:
    worker = worker_of(notifier)
    await notifier.feed(reply(notifier, "whatsapp", "dm", WA_ID))
    (claimed,) = await worker.claim()  # dies before sending: nothing went out
    clock_of(notifier).advance(seconds=31)
    await worker.run_once()
    assert meta.sends == []
    clock_of(notifier).advance(seconds=180)  # past echo_wait: presumed lost
    await worker.run_once()
    assert len(meta.sends) == 1
    assert isinstance(await outcome(notifier), DeliverySucceeded)
    assert claimed.id


# --- receipts -----------------------------------------------------------------------------


def receipt(svc: Booted, platform: str, status: str, **over: Any) -> PlatformDeliveryReported:
    fields = {**envelope(clock_of(svc)), "brand": "ourbus", "platform": platform, "status": status}
    return PlatformDeliveryReported.model_validate(fields | over)


async def test_receipts_become_reply_status_changes_once_and_in_order(
    notifier: Booted, meta: FakeMeta
) -> None:
    event = reply(notifier, "messenger", "dm", PSID)
    await notifier.feed(event)
    await worker_of(notifier).run_once()
    await notifier.emitted()
    (send,) = meta.sends
    mid = send.response["message_id"]
    await notifier.feed(receipt(notifier, "messenger", "delivered", platform_message_ids=[mid]))
    (delivered,) = await notifier.emitted()
    assert isinstance(delivered, ReplyStatusChanged)
    assert (delivered.reply_id, delivered.status) == (event.reply_id, "delivered")
    # A read receipt by watermark covers everything sent to that customer before it.
    clock_of(notifier).advance(seconds=5)
    await notifier.feed(
        receipt(
            notifier, "messenger", "read", recipient_platform_user_id=PSID, watermark=clock_of(notifier).now()
        )
    )
    (read,) = await notifier.emitted()
    assert isinstance(read, ReplyStatusChanged) and read.status == "read"
    await notifier.feed(receipt(notifier, "messenger", "delivered", platform_message_ids=[mid]))
    assert await notifier.emitted() == [], "a late receipt never moves a status back"


async def test_a_whatsapp_failed_status_fails_its_reply(notifier: Booted, meta: FakeMeta) -> None:
    event = reply(notifier, "whatsapp", "dm", WA_ID)
    await notifier.feed(event)
    await worker_of(notifier).run_once()
    await notifier.emitted()
    (send,) = meta.sends
    wamid = send.response["messages"][0]["id"]
    await notifier.feed(
        receipt(
            notifier,
            "whatsapp",
            "failed",
            platform_message_ids=[wamid],
            error_code=131047,
            error_title="Re-engagement message",
            delivery_key=f"sd:{event.reply_id}",
        )
    )
    status, failed = await notifier.emitted()
    assert isinstance(status, ReplyStatusChanged) and status.status == "failed"
    assert isinstance(failed, DeliveryFailed)
    assert (failed.reply_id, failed.reason, failed.platform_error_code) == (
        event.reply_id,
        "window_closed",
        131047,
    )


# --- personal data in logs (issue 11) -------------------------------------------------------


async def test_reply_texts_and_recipients_are_not_logged_at_info(
    notifier: Booted, meta: FakeMeta, x: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    secret_text = "Your refund of 42.17 for booking QX-8812 is on its way."
    meta.error_next(1, 551, "(#551) This person isn't available right now.", api="messenger")
    events = [
        reply(notifier, "messenger", "dm", PSID, text=secret_text),
        reply(notifier, "whatsapp", "dm", WA_ID, text=secret_text + " (wa)"),
        reply(notifier, "x", "dm", X_CUSTOMER, text=secret_text + " (x)"),
        reply(notifier, "messenger", "dm", PSID, text=secret_text + " again", brand="rally"),
    ]
    await notifier.feed(*events)
    await worker_of(notifier).run_once()
    outcomes = await notifier.emitted()
    assert {type(e) for e in outcomes} == {DeliverySucceeded, DeliveryFailed}
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "failed for good" in logged  # the failures are told, without who or what
    for needle in (secret_text, "QX-8812", PSID, WA_ID, X_CUSTOMER):
        assert needle not in logged


async def test_without_credentials_replies_stay_in_the_labelled_local_sink(
    fresh_db: str, tmp_path: Path
) -> None:
    data: dict[str, Any] = yaml.safe_load(TEST_CONFIG.read_text())
    for entry in data["brands"]:  # accounts known, their tokens not in this environment
        entry["accounts"] = {}
    data["brands"][0]["accounts"] = {"instagram": {"account_id": IG, "access_token_env": "T_UNSET_IG"}}
    path = tmp_path / "bare.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    bare = load_config(path, env=TEST_ENV)
    settings = {"local_sink_path": tmp_path / "sink.jsonl"}
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=bare, settings=settings) as svc:
        await svc.feed(reply(svc, "instagram", "dm", IGSID))
        await worker_of(svc).run_once()
        (delivered,) = await svc.emitted()
        assert isinstance(delivered, NotificationDelivered)
        assert delivered.channel == "local"
        assert "LOCAL SINK" in (tmp_path / "sink.jsonl").read_text()


async def test_a_failed_reply_is_re_driven_by_the_operator_command_once_fixed(
    notifier: Booted, meta: FakeMeta, fresh_db: str
) -> None:
    meta.error_next(1, 190, "Error validating access token", status=401)
    await notifier.feed(reply(notifier, "instagram", "dm", IGSID))
    await worker_of(notifier).run_once()
    assert isinstance(await outcome(notifier), DeliveryFailed)
    # The token was renewed; the operator re-drives what failed for that reason.
    count = await run_redrive(
        fresh_db,
        ids=[],
        every=True,
        reason="token_expired",
        since=None,
        force=False,
        now=clock_of(notifier).now(),
    )
    assert count == 1
    await worker_of(notifier).run_once()
    assert len(meta.sends) == 1
    assert isinstance(await outcome(notifier), DeliverySucceeded)
    assert (
        await run_redrive(
            fresh_db, ids=[], every=True, reason=None, since=None, force=False, now=clock_of(notifier).now()
        )
        == 0
    )


async def test_a_lost_whatsapp_send_is_settled_by_its_status_carrying_our_key(
    notifier: Booted, meta: FakeMeta
) -> None:
    worker = worker_of(notifier)
    event = reply(notifier, "whatsapp", "dm", WA_ID)
    await notifier.feed(event)
    (claimed,) = await worker.claim()
    sender = notifier.parts.workers[0]._senders.for_channel("whatsapp")  # type: ignore[attr-defined]
    assert (await sender.send(claimed)).ok  # sent; the process dies before recording it
    clock_of(notifier).advance(seconds=31)
    await worker.run_once()
    assert await notifier.emitted() == []
    (send,) = meta.sends
    wamid = send.response["messages"][0]["id"]
    # WhatsApp's "sent" status echoes biz_opaque_callback_data: ingest reports it.
    await notifier.feed(
        receipt(
            notifier,
            "whatsapp",
            "sent",
            platform_message_ids=[wamid],
            recipient_platform_user_id=WA_ID,
            delivery_key=f"sd:{event.reply_id}",
        )
    )
    clock_of(notifier).advance(seconds=10)
    await worker.run_once()
    assert len(meta.sends) == 1
    sent = await outcome(notifier)
    assert isinstance(sent, DeliverySucceeded)
    assert sent.platform_message_id == wamid


async def test_a_lost_x_post_refused_as_duplicate_on_retry_counts_as_sent(notifier: Booted, x: FakeX) -> None:
    worker = worker_of(notifier)
    event = reply(notifier, "x", "mention", X_CUSTOMER, in_reply_to_platform_message_id="2007000000000000001")
    await notifier.feed(event)
    (claimed,) = await worker.claim()
    sender = notifier.parts.workers[0]._senders.for_channel("x")  # type: ignore[attr-defined]
    assert (await sender.send(claimed)).ok  # posted; the answer is lost with the process
    clock_of(notifier).advance(seconds=31)
    await worker.run_once()  # waits for an echo that X mentions do not carry a key for
    clock_of(notifier).advance(seconds=180)  # presumed lost: sent again, X refuses the duplicate
    await worker.run_once()
    assert len(x.tweets) == 1
    assert isinstance(await outcome(notifier), DeliverySucceeded)


async def test_a_lost_answer_mid_parts_resumes_after_the_part_seen_never_repeating_one(
    notifier: Booted, meta: FakeMeta
) -> None:
    worker = worker_of(notifier)
    text = " ".join(f"Step {i}: show your ticket at the gate." for i in range(80))  # four parts
    event = reply(notifier, "instagram", "dm", IGSID, text=text)
    await notifier.feed(event)
    (claimed,) = await worker.claim()
    # Parts 1 and 2 go out, but part 2's answer is lost (a 500 after Meta processed it).
    meta._inject(
        Fault(
            1,
            lambda _r: Reply(500, {"error": {"message": "An unknown error occurred", "code": 1}}),
            lambda r: b"#2" in r.body,
            processed=True,
        )
    )
    sender = notifier.parts.workers[0]._senders.for_channel("instagram")  # type: ignore[attr-defined]
    first = await sender.send(claimed)
    assert not first.ok and first.ambiguous
    assert len(meta.sends) == 2
    now = clock_of(notifier).now()
    await worker._record(claimed, sender, worker._policy.after_send(claimed, first, now))  # type: ignore[attr-defined]
    part1, part2 = meta.sends
    # Part 2's echo comes back through ingest with its key: found, not re-sent.
    echo = OwnMessageSeen.model_validate(
        {
            **envelope(clock_of(notifier)),
            "brand": "ourbus",
            "platform": "instagram",
            "kind": "dm",
            "platform_message_id": part2.response["message_id"],
            "recipient_platform_user_id": IGSID,
            "text": part2.payload["message"]["text"],
            "delivery_key": f"sd:{event.reply_id}#2",
        }
    )
    await notifier.feed(echo)
    clock_of(notifier).advance(seconds=5)
    await worker.run_once()
    sends = meta.sends
    assert [s.payload["message"]["metadata"] for s in sends] == [
        f"sd:{event.reply_id}",
        f"sd:{event.reply_id}#2",
        f"sd:{event.reply_id}#3",
        f"sd:{event.reply_id}#4",
    ]
    assert sends[:2] == [part1, part2]
    sent = await outcome(notifier)
    assert isinstance(sent, DeliverySucceeded)
    assert sent.parts == 4
