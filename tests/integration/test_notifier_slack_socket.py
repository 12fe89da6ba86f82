"""Slack Socket Mode (issue 11 item 4): clicks over the websocket are acknowledged at once and
handled like clicks at the HTTP interactivity URL. Through the notifier's real bootstrap,
its Socket Mode worker (slack-sdk's aiohttp client) against the Slack and socket fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.socket_mode import SocketModeWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas.outbound import EscalationAcknowledged
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_socket import FakeSocketMode
from tests.integration.test_notifier_slack_clicks import breached
from tests.integration.test_notifier_slack_support import CHANNELS, slack_config
from tests.support import Booted, booted

pytestmark = pytest.mark.integration


@pytest.fixture
def socket() -> Iterator[FakeSocketMode]:
    with FakeSocketMode() as fake:
        yield fake


@pytest.fixture
def slack(socket: FakeSocketMode) -> Iterator[FakeSlack]:
    with FakeSlack(
        token="xoxb-test", channels=CHANNELS, app_token="xapp-test", socket_url=socket.url
    ) as fake:
        yield fake


@pytest.fixture
async def notifier(fresh_db: str, slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Booted]:
    base = slack_config()
    config = base.model_copy(
        update={"slack": base.slack.model_copy(update={"app_token_env": "TEST_SLACK_APP_TOKEN"})}
    )
    config._env = {**(config._env or {}), "TEST_SLACK_APP_TOKEN": "xapp-test"}
    async with booted(
        SPEC,
        fresh_db,
        clock=FakeClock(),
        config=config,
        settings={
            "slack_base_url": slack.base_url,
            "local_sink_path": tmp_path / "sink.jsonl",
            "delivery_lease_seconds": 8,
            "slack_channel_interval_seconds": 1.0,
            "graph_base_url": "http://127.0.0.1:9",
            "x_base_url": "http://127.0.0.1:9",
        },
    ) as svc:
        yield svc


async def test_a_click_over_socket_mode_is_acknowledged_and_acts_once(
    notifier: Booted, slack: FakeSlack, socket: FakeSocketMode
) -> None:
    (worker,) = (w for w in notifier.parts.workers if isinstance(w, SocketModeWorker))
    task = asyncio.create_task(worker.run())
    try:
        ticket = await breached(notifier)
        await asyncio.to_thread(socket.wait_connected)
        payload = {
            "type": "block_actions",
            "user": {"id": "U0FARAH"},
            "trigger_id": "trig-1",
            "channel": {"id": "C0OBLEAD"},
            "response_url": slack.response_url("socket"),
            "actions": [
                {
                    "action_id": "acknowledge",
                    "value": str(ticket),
                    "type": "button",
                    "action_ts": "1767225633.0002",
                }
            ],
        }
        first = await asyncio.to_thread(socket.send_interactive, payload)
        again = await asyncio.to_thread(socket.send_interactive, payload)  # Slack's redelivery
        await asyncio.to_thread(socket.wait_acked, first)
        await asyncio.to_thread(socket.wait_acked, again)
        answers = await slack.await_responses(2)
        # The two deliveries are handled concurrently: either answer may reach Slack first.
        texts = sorted((a["text"] for a in answers), key=lambda t: "already handled" in t)
        assert "acknowledged" in texts[0] and "already handled" in texts[1], texts
        (ack,) = [e for e in await notifier.emitted() if isinstance(e, EscalationAcknowledged)]
        assert (ack.ticket_id, ack.slack_user_id) == (ticket, "U0FARAH")
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout=10)


async def test_without_an_app_token_there_is_no_socket_mode_worker(fresh_db: str, tmp_path: Path) -> None:
    async with booted(
        SPEC, fresh_db, config=slack_config(), settings={"local_sink_path": tmp_path / "s.jsonl"}
    ) as svc:
        assert not [w for w in svc.parts.workers if isinstance(w, SocketModeWorker)]
