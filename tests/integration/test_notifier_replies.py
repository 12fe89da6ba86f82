"""Customer replies through the notifier's real bootstrap, on real PostgreSQL, against the
local Meta Graph and X fakes: the right call once, windows, throttling, permanent errors,
a lost answer found through its echo, receipts, and no customer text in INFO logs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.cli import run_redrive
from socialdesk_notifier.senders.platforms import PlatformSender
from socialdesk_notifier.tables import deliveries
from socialdesk_notifier.worker import DeliveryWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig, load_config
from socialdesk_schemas import Event, MessageReceived, NotificationDelivered, ReplyRequested
from socialdesk_schemas.outbound import DeliveryFailed, DeliverySucceeded, ReplyStatusChanged
from socialdesk_schemas.platforms import OwnMessageSeen, PlatformDeliveryReported
from tests.fakes._http import Fault, Reply
from tests.fakes.meta import FakeMeta
from tests.fakes.x import FakeX
from tests.support import TEST_CONFIG, TEST_ENV, Booted, booted, envelope

pytestmark = pytest.mark.integration

PAGE, IG, PHONE, X_USER = "730011223344556", "17841400000000001", "408877665544332", "3300112233"
META_TOKEN, X_TOKEN = "EAAG-test", "x-user-test"
PSID, IGSID, WA_ID, X_CUSTOMER = "6123456789012345", "1133557799002244", "447700900123", "4400556677"


def platform_config(tmp_path: Path, *, template: bool = True) -> SocialdeskConfig:
    """The test configuration with OurBus on every platform (Rally has no accounts)."""
    data: dict[str, Any] = yaml.safe_load(TEST_CONFIG.read_text())
    whatsapp: dict[str, Any] = {"phone_number_id": PHONE, "access_token_env": "T_WA"}
    if template:
        whatsapp["out_of_window_template"] = {"name": "support_followup", "language": "en_US"}
    data["brands"][0]["accounts"] = {
        "facebook": {"page_id": PAGE, "page_token_env": "T_PAGE"},
        "instagram": {"account_id": IG, "access_token_env": "T_IG"},
        "whatsapp": whatsapp,
        "x": {"user_id": X_USER, "bearer_token_env": "T_X"},
    }
    path = tmp_path / "socialdesk.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    env = {**TEST_ENV, "T_PAGE": META_TOKEN, "T_IG": META_TOKEN, "T_WA": META_TOKEN, "T_X": X_TOKEN}
    return load_config(path, env=env)


@pytest.fixture
def meta() -> Iterator[FakeMeta]:
    with FakeMeta(token=META_TOKEN, pages={PAGE}, ig_accounts={IG}, phone_numbers={PHONE}) as fake:
        yield fake


@pytest.fixture
def x() -> Iterator[FakeX]:
    with FakeX(user_token=X_TOKEN, user_id=X_USER) as fake:
        yield fake


@pytest.fixture
async def notifier(fresh_db: str, meta: FakeMeta, x: FakeX, tmp_path: Path) -> AsyncIterator[Booted]:
    async with booted(
        SPEC,
        fresh_db,
        clock=FakeClock(),
        config=platform_config(tmp_path),
        settings={
            "graph_base_url": meta.url,
            "x_base_url": x.url,
            "local_sink_path": tmp_path / "sink.jsonl",
            "delivery_lease_seconds": 30,
            "echo_wait_seconds": 120,
            "recipient_interval_seconds": 0,
        },
    ) as svc:
        yield svc


def worker_of(svc: Booted) -> DeliveryWorker:
    (worker,) = svc.parts.workers
    assert isinstance(worker, DeliveryWorker)
    return worker


def clock_of(svc: Booted) -> FakeClock:
    assert isinstance(svc.runtime.clock, FakeClock)
    return svc.runtime.clock


def customer_wrote(svc: Booted, platform: str, user: str, *, ago: timedelta) -> MessageReceived:
    clock = clock_of(svc)
    return MessageReceived.model_validate(
        {
            **envelope(clock),
            "message_id": uuid.uuid4(),
            "conversation_id": uuid.uuid4(),
            "customer_id": uuid.uuid4(),
            "brand": "ourbus",
            "platform": platform,
            "kind": "dm",
            "platform_message_id": f"in-{uuid.uuid4().hex[:8]}",
            "author": {"platform_user_id": user},
            "text": "Where is my bus?",
            "received_at": clock.now() - ago,
            "sent_at": clock.now() - ago,
        }
    )


def reply(svc: Booted, platform: str, kind: str, recipient: str, **over: Any) -> ReplyRequested:
    fields: dict[str, Any] = {
        **envelope(clock_of(svc)),
        "reply_id": uuid.uuid4(),
        "brand": "ourbus",
        "platform": platform,
        "kind": kind,
        "recipient_platform_user_id": recipient,
        "text": f"Your bus leaves at 9:15 from gate 4 ({uuid.uuid4().hex[:6]}).",
        "origin": "agent",
        "agent_id": "ob-ana",
    }
    return ReplyRequested.model_validate(fields | over)


async def outcome(svc: Booted) -> Event:
    (event,) = await svc.emitted()
    return event


# --- each platform: the right call, once ------------------------------------------------


async def test_messenger_inside_the_window_sends_one_response_with_our_key(
    notifier: Booted, meta: FakeMeta
) -> None:
    event = reply(notifier, "messenger", "dm", PSID)
    await notifier.feed(customer_wrote(notifier, "messenger", PSID, ago=timedelta(hours=2)), event)
    await worker_of(notifier).run_once()
    (send,) = meta.sends
    assert (send.api, send.object_id) == ("messenger", PAGE)
    assert send.payload["messaging_type"] == "RESPONSE"
    assert send.payload["recipient"] == {"id": PSID}
    assert send.payload["message"] == {"text": event.text, "metadata": f"sd:{event.reply_id}"}
    sent = await outcome(notifier)
    assert isinstance(sent, DeliverySucceeded)
    assert (sent.reply_id, sent.platform_message_id, sent.parts) == (
        event.reply_id,
        send.response["message_id"],
        1,
    )
    assert await worker_of(notifier).run_once() == 0
    assert len(meta.sends) == 1


async def test_messenger_after_a_day_uses_human_agent_and_after_a_week_fails_without_a_call(
    notifier: Booted, meta: FakeMeta
) -> None:
    await notifier.feed(customer_wrote(notifier, "messenger", PSID, ago=timedelta(days=3)))
    meta.close_window(PSID)  # Meta agrees: RESPONSE would be refused now
    await notifier.feed(reply(notifier, "messenger", "dm", PSID))
    await worker_of(notifier).run_once()
    (send,) = meta.sends
    assert (send.payload["messaging_type"], send.payload["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert isinstance(await outcome(notifier), DeliverySucceeded)

    clock_of(notifier).advance(seconds=5 * 86400)  # now 8 days since the customer wrote
    calls_before = len(meta.calls)
    await notifier.feed(reply(notifier, "messenger", "dm", PSID))
    await worker_of(notifier).run_once()
    failed = await outcome(notifier)
    assert isinstance(failed, DeliveryFailed)
    assert failed.reason == "window_closed"
    assert len(meta.calls) == calls_before, "Meta was never asked"


@pytest.mark.parametrize(
    ("platform", "kind", "recipient", "in_reply_to", "api", "path_object"),
    [
        ("facebook", "comment", "5550001112223", "880011_990022", "comments", "880011_990022"),
        ("instagram", "dm", IGSID, None, "instagram", IG),
        ("instagram", "comment", IGSID, "18012345678901234", "instagram_replies", "18012345678901234"),
        ("whatsapp", "dm", WA_ID, "wamid.HBgFakeIn01", "whatsapp", PHONE),
    ],
)
async def test_each_meta_surface_gets_exactly_one_correct_call(
    notifier: Booted,
    meta: FakeMeta,
    platform: str,
    kind: str,
    recipient: str,
    in_reply_to: str | None,
    api: str,
    path_object: str,
) -> None:
    event = reply(notifier, platform, kind, recipient, in_reply_to_platform_message_id=in_reply_to)
    await notifier.feed(customer_wrote(notifier, platform, recipient, ago=timedelta(minutes=5)), event)
    await worker_of(notifier).run_once()
    await worker_of(notifier).run_once()
    (send,) = meta.sends
    assert (send.api, send.object_id) == (api, path_object)
    if kind == "comment":
        assert send.payload["message"] == event.text
    elif platform == "whatsapp":
        assert send.payload["text"]["body"] == event.text
        assert send.payload["context"] == {"message_id": in_reply_to}
        assert send.payload["biz_opaque_callback_data"] == f"sd:{event.reply_id}"
    else:
        assert send.payload["message"]["text"] == event.text
    sent = await outcome(notifier)
    assert isinstance(sent, DeliverySucceeded)
    assert sent.platform_message_id


async def test_whatsapp_outside_the_window_sends_the_approved_template(
    notifier: Booted, meta: FakeMeta
) -> None:
    meta.close_window(WA_ID)
    event = reply(notifier, "whatsapp", "dm", WA_ID)
    await notifier.feed(customer_wrote(notifier, "whatsapp", WA_ID, ago=timedelta(hours=30)), event)
    await worker_of(notifier).run_once()
    (send,) = meta.sends
    assert send.payload["type"] == "template"
    assert send.payload["template"]["name"] == "support_followup"
    assert send.payload["template"]["components"][0]["parameters"] == [{"type": "text", "text": event.text}]
    assert isinstance(await outcome(notifier), DeliverySucceeded)


async def test_x_dm_and_reply_post(notifier: Booted, x: FakeX) -> None:
    dm = reply(notifier, "x", "dm", X_CUSTOMER)
    post = reply(notifier, "x", "mention", X_CUSTOMER, in_reply_to_platform_message_id="2007000000000000001")
    await notifier.feed(dm, post)
    await worker_of(notifier).run_once()
    assert [(s.kind, s.participant_id) for s in x.dms] == [("dm", X_CUSTOMER)]
    assert x.dms[0].payload == {"text": dm.text}
    (tweet,) = x.tweets
    assert tweet.payload == {"text": post.text, "reply": {"in_reply_to_tweet_id": "2007000000000000001"}}
    events = await notifier.emitted()
    assert {type(e) for e in events} == {DeliverySucceeded}
    refs = {e.platform_message_id for e in events if isinstance(e, DeliverySucceeded)}
    assert refs == {x.dms[0].data["dm_event_id"], tweet.data["id"]}


async def test_a_long_dm_goes_in_parts_each_once(notifier: Booted, meta: FakeMeta) -> None:
    text = " ".join(f"Step {i}: show your ticket at the gate." for i in range(80))
    await notifier.feed(reply(notifier, "instagram", "dm", IGSID, text=text))
    await worker_of(notifier).run_once()
    sends = meta.sends
    assert len(sends) == 4
    assert " ".join(s.payload["message"]["text"] for s in sends) == text
    sent = await outcome(notifier)
    assert isinstance(sent, DeliverySucceeded)
    assert sent.parts == 4


# --- bad input ------------------------------------------------------------------------


async def test_a_brand_without_the_account_fails_clearly_and_calls_nobody(
    notifier: Booted, meta: FakeMeta, x: FakeX
) -> None:
    await notifier.feed(reply(notifier, "whatsapp", "dm", WA_ID, brand="rally"))
    await worker_of(notifier).run_once()
    failed = await outcome(notifier)
    assert isinstance(failed, DeliveryFailed)
    assert failed.reason == "no_account"
    assert meta.calls == [] and x.calls == []


async def test_a_too_long_post_is_refused_not_cut(notifier: Booted, x: FakeX) -> None:
    await notifier.feed(
        reply(notifier, "x", "mention", X_CUSTOMER, text="y" * 300, in_reply_to_platform_message_id="1")
    )
    await worker_of(notifier).run_once()
    failed = await outcome(notifier)
    assert isinstance(failed, DeliveryFailed)
    assert failed.reason == "too_long"
    assert x.calls == []


# --- throttling and permanent errors ------------------------------------------------------


async def test_throttled_then_succeeded_backs_off_and_sends_once(notifier: Booted, meta: FakeMeta) -> None:
    meta.rate_limit_next(1)  # 613 with X-App-Usage at 100 %
    await notifier.feed(reply(notifier, "messenger", "dm", PSID))
    await worker_of(notifier).run_once()
    assert meta.sends == []
    assert await notifier.emitted() == []
    async with notifier.engine.connect() as conn:
        status, throttles = (await conn.execute(select(deliveries.c.status, deliveries.c.throttles))).one()
    assert (status, throttles) == ("pending", 1)
    clock_of(notifier).advance(seconds=2)
    await worker_of(notifier).run_once()
    assert len(meta.sends) == 1
    assert isinstance(await outcome(notifier), DeliverySucceeded)
    throttled = notifier.runtime.metrics.registry.get_sample_value(
        "notifier_replies_throttled_total", {"channel": "messenger"}
    )
    assert throttled == 1


async def test_x_429_waits_for_the_reset_then_sends_once(notifier: Booted, x: FakeX) -> None:
    x.rate_limit_next(1, retry_after=1, kind="dm")
    await notifier.feed(reply(notifier, "x", "dm", X_CUSTOMER))
    await worker_of(notifier).run_once()
    assert x.sends == []
    async with notifier.engine.connect() as conn:
        not_before = (await conn.execute(select(deliveries.c.next_attempt_at))).scalar_one()
    assert not_before > clock_of(notifier).now()
    clock_of(notifier).advance(seconds=2)
    await worker_of(notifier).run_once()
    assert len(x.dms) == 1


async def test_an_expired_token_fails_with_the_platforms_code_and_marks_the_channel_unhealthy(
    notifier: Booted, meta: FakeMeta
) -> None:
    meta.error_next(1, 190, "Error validating access token: Session has expired", status=401)
    await notifier.feed(reply(notifier, "whatsapp", "dm", WA_ID))
    await worker_of(notifier).run_once()
    failed = await outcome(notifier)
    assert isinstance(failed, DeliveryFailed)
    assert (failed.reason, failed.platform_error_code) == ("token_expired", 190)
    registry = notifier.runtime.metrics.registry
    assert registry.get_sample_value("notifier_channel_healthy", {"channel": "whatsapp"}) == 0
    assert (
        registry.get_sample_value(
            "notifier_delivery_failures_total", {"channel": "whatsapp", "reason": "token_expired"}
        )
        == 1
    )
    clock_of(notifier).advance(seconds=600)
    assert await worker_of(notifier).run_once() == 0, "no retry storm"


async def test_whatsapp_window_closed_at_the_platform_fails_with_131047(
    notifier: Booted, meta: FakeMeta
) -> None:
    meta.close_window(WA_ID)  # the notifier has not seen the customer's message: Meta judges
    await notifier.feed(reply(notifier, "whatsapp", "dm", WA_ID))
    await worker_of(notifier).run_once()
    failed = await outcome(notifier)
    assert isinstance(failed, DeliveryFailed)
    assert (failed.reason, failed.platform_error_code) == ("window_closed", 131047)


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
