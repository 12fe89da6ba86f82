"""FakeSlack, exercised through the real slack_sdk client the notifier uses."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-test"
OURBUS, RALLY = "C0OURBUS", "C0RALLY"
ESCALATION_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Case 4711*"}},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "instagram"}]},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "esc.claim",
                "text": {"type": "plain_text", "text": "Claim"},
                "value": "case-4711",
                "style": "primary",
            }
        ],
    },
]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, channels={OURBUS, RALLY}) as fake:
        yield fake


def client_for(slack: FakeSlack, *, token: str | None = TOKEN, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.base_url, **kwargs)


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


async def test_post_thread_update_and_history_round_trip(slack: FakeSlack) -> None:
    client = client_for(slack)
    metadata = {"event_type": "sla_breached", "event_payload": {"event_id": "e-1", "ticket_id": "t-1"}}
    parent = await client.chat_postMessage(
        channel=OURBUS, text="Escalation: IG DM", blocks=ESCALATION_BLOCKS, metadata=metadata
    )
    assert parent["ok"] is True
    assert parent["channel"] == OURBUS
    assert parent["message"]["text"] == "Escalation: IG DM"
    assert parent["message"]["metadata"] == metadata
    reply = await client.chat_postMessage(channel=OURBUS, thread_ts=parent["ts"], text="Customer replied")
    updated = await client.chat_update(
        channel=OURBUS, ts=parent["ts"], text="Claimed by <@U0AGENT1>", blocks=[]
    )

    assert updated["text"] == "Claimed by <@U0AGENT1>"
    assert [p["channel"] for p in slack.posts] == [OURBUS, OURBUS]
    assert slack.posts[0]["blocks"] == ESCALATION_BLOCKS
    assert slack.posts[1]["thread_ts"] == parent["ts"]
    assert slack.updates[0]["ts"] == parent["ts"]

    history = await client.conversations_history(channel=OURBUS, include_all_metadata=True)
    (only,) = history["messages"]  # the thread reply lives in the thread, not in history
    assert only["ts"] == parent["ts"]
    assert only["text"] == "Claimed by <@U0AGENT1>"
    assert only["metadata"] == metadata
    assert only["reply_count"] == 1
    assert only["latest_reply"] == reply["ts"]
    plain = await client.conversations_history(channel=OURBUS)
    assert "metadata" not in plain["messages"][0]
    assert [m["text"] for m in slack.thread(OURBUS, parent["ts"])] == [
        "Claimed by <@U0AGENT1>",
        "Customer replied",
    ]


async def test_rate_limit_is_retried_by_the_sdk_handler_and_then_succeeds(slack: FakeSlack) -> None:
    slack.rate_limit_next(1, retry_after=0, method="chat.postMessage")
    client = client_for(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])

    response = await client.chat_postMessage(channel=RALLY, text="Crisis: spike on Rally")

    assert response["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    assert len(slack.posts) == 1  # the throttled attempt left nothing behind


async def test_rate_limit_without_handler_surfaces_429_and_retry_after(slack: FakeSlack) -> None:
    slack.rate_limit_next(1, retry_after=2)

    error = await api_error(client_for(slack).chat_postMessage(channel=RALLY, text="x"))

    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "2"
    assert error.response["error"] == "ratelimited"
    assert slack.posts == []


async def test_server_error_then_success_with_server_error_handler(slack: FakeSlack) -> None:
    slack.fail_next(1, status=503)
    fast = FixedValueRetryIntervalCalculator(fixed_internal=0.01)  # sic: the SDK's spelling
    handler = AsyncServerErrorRetryHandler(max_retry_count=1, interval_calculator=fast)
    client = client_for(slack, retry_handlers=[handler])

    assert (await client.chat_postMessage(channel=OURBUS, text="ok after 503"))["ok"] is True
    assert [c.status for c in slack.calls] == [503, 200]

    slack.fail_next(1)
    error = await api_error(client_for(slack).chat_postMessage(channel=OURBUS, text="x"))
    assert error.response.status_code == 500


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"channel": "C0NOSUCH", "text": "x"}, "channel_not_found"),
        ({"channel": OURBUS}, "no_text"),
        ({"channel": OURBUS, "text": ""}, "no_text"),
        ({"channel": OURBUS, "text": "x" * 40_001}, "msg_too_long"),
        (
            {
                "channel": OURBUS,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}],
            },
            "invalid_blocks",
        ),
        ({"channel": OURBUS, "text": "x", "blocks": [{"type": "bogus"}]}, "invalid_blocks"),
        ({"channel": OURBUS, "text": "x", "thread_ts": "1767225600.000100"}, "thread_not_found"),
        ({"channel": OURBUS, "text": "x", "metadata": {"event_type": "x"}}, "invalid_metadata_format"),
    ],
)
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
async def test_post_errors_are_http_200_ok_false(
    slack: FakeSlack, kwargs: dict[str, Any], expected: str
) -> None:
    error = await api_error(client_for(slack).chat_postMessage(**kwargs))

    assert error.response.status_code == 200
    assert error.response["ok"] is False
    assert error.response["error"] == expected
    assert slack.posts == []


async def test_invalid_blocks_names_the_offending_block(slack: FakeSlack) -> None:
    blocks = [ESCALATION_BLOCKS[0], {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]
    error = await api_error(client_for(slack).chat_postMessage(channel=OURBUS, text="x", blocks=blocks))
    assert error.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/1/text/text]"
    ]


async def test_thread_ts_must_be_the_parent_not_a_reply(slack: FakeSlack) -> None:
    client = client_for(slack)
    parent = await client.chat_postMessage(channel=OURBUS, text="parent")
    reply = await client.chat_postMessage(channel=OURBUS, text="reply", thread_ts=parent["ts"])

    error = await api_error(client.chat_postMessage(channel=OURBUS, text="nested", thread_ts=reply["ts"]))
    assert error.response["error"] == "thread_not_found"
    other_channel = await api_error(client.chat_postMessage(channel=RALLY, text="x", thread_ts=parent["ts"]))
    assert other_channel.response["error"] == "thread_not_found"


@pytest.mark.parametrize(("token", "expected"), [(None, "not_authed"), ("xoxb-wrong", "invalid_auth")])
async def test_bad_or_missing_token(slack: FakeSlack, token: str | None, expected: str) -> None:
    error = await api_error(client_for(slack, token=token).chat_postMessage(channel=OURBUS, text="x"))
    assert error.response["error"] == expected
    assert slack.posts == []


async def test_update_of_unknown_message(slack: FakeSlack) -> None:
    error = await api_error(client_for(slack).chat_update(channel=OURBUS, ts="1767225600.000100", text="x"))
    assert error.response["error"] == "message_not_found"


async def test_auth_test_and_join(slack: FakeSlack) -> None:
    client = client_for(slack)
    assert (await client.auth_test())["user_id"] == slack.bot_user_id
    joined = await client.conversations_join(channel=OURBUS)
    assert joined["channel"]["id"] == OURBUS
    assert joined["warning"] == "already_in_channel"


async def test_history_needs_membership_until_join() -> None:
    with FakeSlack(token=TOKEN, channels={OURBUS}, joined=()) as slack:
        client = client_for(slack)
        await client.chat_postMessage(channel=OURBUS, text="posting needs no membership")
        error = await api_error(client.conversations_history(channel=OURBUS))
        assert error.response["error"] == "not_in_channel"

        await client.conversations_join(channel=OURBUS)

        assert len((await client.conversations_history(channel=OURBUS))["messages"]) == 1


async def test_concurrent_posts_get_unique_increasing_ts(slack: FakeSlack) -> None:
    client = client_for(slack)
    responses = await asyncio.gather(
        *(client.chat_postMessage(channel=RALLY, text=f"m{i}") for i in range(20))
    )

    stored = slack.messages(RALLY)
    assert len({r["ts"] for r in responses}) == 20
    assert [m["ts"] for m in stored] == sorted(
        (m["ts"] for m in stored), key=lambda ts: tuple(map(int, ts.split(".")))
    )
    assert all(len(r["ts"].split(".")[1]) == 6 for r in responses)


async def test_history_newest_first_with_range_and_cursor(slack: FakeSlack) -> None:
    client = client_for(slack)
    sent = [(await client.chat_postMessage(channel=OURBUS, text=f"m{i}"))["ts"] for i in range(5)]

    first = await client.conversations_history(channel=OURBUS, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    second = await client.conversations_history(
        channel=OURBUS, limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in second["messages"]] == ["m2", "m1"]
    ranged = await client.conversations_history(channel=OURBUS, oldest=sent[1], latest=sent[3])
    assert [m["text"] for m in ranged["messages"]] == ["m2"]
    inclusive = await client.conversations_history(
        channel=OURBUS, oldest=sent[1], latest=sent[3], inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]


def test_form_encoded_post_and_sync_waiting(slack: FakeSlack) -> None:
    """Slack takes form bodies too (blocks as a JSON string); waiting works from plain threads."""

    def post_later() -> None:
        httpx.post(
            slack.base_url + "chat.postMessage",
            data={"channel": RALLY, "text": "form", "blocks": json.dumps(ESCALATION_BLOCKS[:1])},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    threading.Timer(0.05, post_later).start()
    (post,) = slack.wait_for_posts(1, timeout=5)

    assert post["blocks"] == ESCALATION_BLOCKS[:1]
    history = httpx.get(slack.base_url + "conversations.history", params={"channel": RALLY, "token": TOKEN})
    assert history.json()["messages"][0]["text"] == "form"


def test_wait_for_posts_times_out(slack: FakeSlack) -> None:
    with pytest.raises(TimeoutError, match=r"1 chat\.postMessage"):
        slack.wait_for_posts(1, timeout=0.05)


def test_unknown_method_is_404(slack: FakeSlack) -> None:
    response = httpx.post(slack.base_url + "chat.nope", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error": "unknown_method", "req_method": "chat.nope"}


async def test_await_posts_does_not_block_the_loop(slack: FakeSlack) -> None:
    client = client_for(slack)
    waiter = asyncio.create_task(slack.await_posts(1, timeout=5))
    await client.chat_postMessage(channel=OURBUS, text="while waiting")
    assert [p["text"] for p in await waiter] == ["while waiting"]


async def test_shared_keep_alive_session_and_prompt_stop() -> None:
    """A notifier reuses one aiohttp session; idle keep-alive connections must not hold up stop()."""
    slack = FakeSlack(token=TOKEN, channels={OURBUS}).start()
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token=TOKEN, base_url=slack.base_url, session=session)
        for i in range(3):
            await client.chat_postMessage(channel=OURBUS, text=f"m{i}")
        started = time.monotonic()
        slack.stop()
        assert time.monotonic() - started < 1.0
    assert len(slack.posts) == 3


async def test_processed_server_error_posts_yet_answers_500(slack: FakeSlack) -> None:
    """The ambiguous failure: Slack posted, the client saw 500. A blind 5xx retry posts twice."""
    slack.fail_next(1, status=500, method="chat.postMessage", processed=True)
    fast = FixedValueRetryIntervalCalculator(fixed_internal=0.01)
    handler = AsyncServerErrorRetryHandler(max_retry_count=1, interval_calculator=fast)

    await client_for(slack, retry_handlers=[handler]).chat_postMessage(channel=OURBUS, text="escalation")

    assert [c.status for c in slack.calls_to("chat.postMessage")] == [500, 200]
    assert [p["text"] for p in slack.posts] == ["escalation", "escalation"]


async def test_posting_faster_than_the_channel_interval_is_429_with_retry_after() -> None:
    with FakeSlack(token=TOKEN, channels=[OURBUS, RALLY], post_interval=1.0) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.base_url, retry_handlers=[])
        await client.chat_postMessage(channel=OURBUS, text="first")
        await client.chat_postMessage(channel=RALLY, text="another channel is its own budget")
        with pytest.raises(SlackApiError) as refused:
            await client.chat_postMessage(channel=OURBUS, text="too soon")
        assert refused.value.response.status_code == 429
        assert refused.value.response.headers["retry-after"] == "1"
        assert fake.throttled() == 1
        await asyncio.sleep(1.05)
        await client.chat_postMessage(channel=OURBUS, text="on time")
        assert [p["text"] for p in fake.posts] == ["first", "another channel is its own budget", "on time"]


async def test_response_url_records_ephemeral_answers_and_interactions_are_signed() -> None:
    import hashlib
    import hmac
    import urllib.parse

    from tests.fakes.slack import signed_interaction

    with FakeSlack(token=TOKEN) as fake:
        async with httpx.AsyncClient() as http:
            reply = await http.post(fake.response_url("a"), json={"response_type": "ephemeral", "text": "no"})
        assert (reply.status_code, reply.text) == (200, "ok")
        assert fake.responses == [{"response_type": "ephemeral", "text": "no"}]
    body, headers = signed_interaction({"type": "block_actions"}, secret="s3cret", timestamp=1767225600)
    assert json.loads(urllib.parse.parse_qs(body.decode())["payload"][0]) == {"type": "block_actions"}
    expected = hmac.new(b"s3cret", b"v0:1767225600:" + body, hashlib.sha256).hexdigest()
    assert headers["X-Slack-Signature"] == f"v0={expected}"
