"""Customer replies through the notifier's real bootstrap, on real PostgreSQL, against the
local Meta Graph and X fakes: the right call once, windows, throttling, permanent errors,
a lost answer found through its echo, receipts, and no customer text in INFO logs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.tables import deliveries
from socialdesk_notifier.worker import DeliveryWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig, load_config
from socialdesk_schemas import Event, MessageReceived, ReplyRequested
from socialdesk_schemas.outbound import DeliveryFailed, DeliverySucceeded
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
    (worker,) = (w for w in svc.parts.workers if isinstance(w, DeliveryWorker))
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
