"""FakeX: DMs and tweets answer 201, refuse app-only tokens and rate-limit with headers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.fakes.x import FakeX

USER_TOKEN, APP_TOKEN, ME, CUSTOMER = "x-user-test", "x-app-test", "3300112233", "4400556677"
AUTH = {"Authorization": f"Bearer {USER_TOKEN}"}
HTTP = httpx.Client(timeout=5)  # one client: building one per call costs a CA-bundle load


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Iterator[None]:
    yield
    HTTP.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def x(clock: Clock) -> Iterator[FakeX]:
    with FakeX(user_token=USER_TOKEN, app_token=APP_TOKEN, user_id=ME, dm_limit=2, clock=clock) as fake:
        yield fake


def dm(x: FakeX, text: str | None = "Refund issued.", token: str = USER_TOKEN) -> httpx.Response:
    body = {} if text is None else {"text": text}
    return HTTP.post(
        f"{x.url}/2/dm_conversations/with/{CUSTOMER}/messages",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_dm_and_reply_tweet_are_created(x: FakeX) -> None:
    sent = dm(x)
    tweet = HTTP.post(
        f"{x.url}/2/tweets",
        headers=AUTH,
        json={"text": "@samo Check DMs", "reply": {"in_reply_to_tweet_id": "2007000000000000001"}},
    )

    assert sent.status_code == 201
    assert sent.json()["data"]["dm_conversation_id"] == f"{ME}-{CUSTOMER}"
    assert tweet.status_code == 201
    assert tweet.json()["data"]["text"] == "@samo Check DMs"
    assert [s.participant_id for s in x.dms] == [CUSTOMER]
    assert x.tweets[0].payload["reply"] == {"in_reply_to_tweet_id": "2007000000000000001"}


def test_dm_limit_429_with_headers_until_the_window_resets(x: FakeX, clock: Clock) -> None:
    first, second, third = dm(x), dm(x), dm(x)

    assert (first.headers["x-rate-limit-limit"], first.headers["x-rate-limit-remaining"]) == ("2", "1")
    assert second.status_code == 201
    assert third.status_code == 429
    assert third.headers["x-rate-limit-remaining"] == "0"
    assert int(third.headers["x-rate-limit-reset"]) == int(clock.now) + 900
    assert len(x.dms) == 2

    clock.now += 900
    assert dm(x).status_code == 201


def test_app_only_and_bad_tokens_are_refused(x: FakeX) -> None:
    app_only = dm(x, token=APP_TOKEN)
    assert app_only.status_code == 403
    assert app_only.json()["type"].endswith("/unsupported-authentication")
    assert dm(x, token="nope").status_code == 401
    assert x.sends == []


def test_invalid_and_duplicate_requests(x: FakeX) -> None:
    missing = dm(x, text=None)
    assert missing.status_code == 400
    assert missing.json()["detail"] == "text missing"
    assert HTTP.post(f"{x.url}/2/tweets", json={"text": "same"}, headers=AUTH).status_code == 201
    duplicate = HTTP.post(f"{x.url}/2/tweets", json={"text": "same"}, headers=AUTH)
    assert duplicate.status_code == 403
    assert "duplicate" in duplicate.json()["detail"]


def test_injected_rate_limit_and_server_error(x: FakeX, clock: Clock) -> None:
    x.rate_limit_next(1, retry_after=30, kind="tweet")
    x.fail_next(1, kind="dm")

    limited = HTTP.post(f"{x.url}/2/tweets", json={"text": "a"}, headers=AUTH)
    assert limited.status_code == 429
    assert limited.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    assert int(limited.headers["x-rate-limit-reset"]) == int(clock.now) + 30
    assert dm(x).status_code == 503
    assert dm(x).status_code == 201


def test_users_me_answers_for_the_user_token_only() -> None:
    with FakeX(user_token="u-tok", app_token="a-tok", user_id="42") as x:
        ok = httpx.get(f"{x.url}/2/users/me", headers={"Authorization": "Bearer u-tok"})
        assert ok.status_code == 200 and ok.json()["data"]["id"] == "42"
        assert httpx.get(f"{x.url}/2/users/me", headers={"Authorization": "Bearer a-tok"}).status_code == 403
        assert httpx.get(f"{x.url}/2/users/me", headers={"Authorization": "Bearer nope"}).status_code == 401


# --- reads: DM events and mentions ----------------------------------------------------

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def test_dm_events_newest_first_default_fields_and_expansions(x: FakeX) -> None:
    first = x.add_dm(CUSTOMER, "Refund please", created_at=T0, username="samo", name="Sam", followers=12)
    ours = x.add_dm(ME, "On it", created_at=T0 + timedelta(minutes=1), to=CUSTOMER)

    bare = HTTP.get(f"{x.url}/2/dm_events", headers=AUTH).json()
    assert [e["id"] for e in bare["data"]] == [ours, first]
    assert set(bare["data"][0]) == {"id", "event_type", "text"} and "includes" not in bare

    full = HTTP.get(
        f"{x.url}/2/dm_events",
        headers=AUTH,
        params={
            "dm_event.fields": "created_at,sender_id,dm_conversation_id",
            "expansions": "sender_id",
            "user.fields": "public_metrics",
            "max_results": "1",
        },
    ).json()
    (event,) = full["data"]
    assert event["sender_id"] == ME and event["dm_conversation_id"] == f"{ME}-{CUSTOMER}"
    assert event["created_at"] == "2026-01-01T09:01:00.000Z"
    assert full["meta"]["next_token"] and full["meta"]["result_count"] == 1
    page2 = HTTP.get(
        f"{x.url}/2/dm_events",
        headers=AUTH,
        params={
            "expansions": "sender_id",
            "user.fields": "public_metrics",
            "pagination_token": full["meta"]["next_token"],
        },
    ).json()
    assert [e["id"] for e in page2["data"]] == [first] and "next_token" not in page2["meta"]
    (user,) = page2["includes"]["users"]
    assert (user["username"], user["public_metrics"]["followers_count"]) == ("samo", 12)


def test_dm_events_refuse_app_only_and_rate_limit_with_headers(clock: Clock) -> None:
    with FakeX(user_token=USER_TOKEN, app_token=APP_TOKEN, user_id=ME, dm_read_limit=1, clock=clock) as x:
        assert (
            HTTP.get(f"{x.url}/2/dm_events", headers={"Authorization": f"Bearer {APP_TOKEN}"}).status_code
            == 403
        )
        assert HTTP.get(f"{x.url}/2/dm_events", headers=AUTH).json() == {"meta": {"result_count": 0}}
        limited = HTTP.get(f"{x.url}/2/dm_events", headers=AUTH)
        assert (
            limited.status_code == 429 and int(limited.headers["x-rate-limit-reset"]) == int(clock.now) + 900
        )


def test_mentions_since_start_time_with_authors_and_replies(x: FakeX) -> None:
    old = x.add_mention(CUSTOMER, "@ourbus old", created_at=T0 - timedelta(days=2))
    new = x.add_mention(CUSTOMER, "@ourbus late again", created_at=T0, in_reply_to="2007", username="samo")
    answer = HTTP.get(
        f"{x.url}/2/users/{ME}/mentions",
        headers={"Authorization": f"Bearer {APP_TOKEN}"},
        params={
            "start_time": "2026-01-01T00:00:00Z",
            "tweet.fields": "created_at,author_id,referenced_tweets",
            "expansions": "author_id",
        },
    ).json()
    (tweet,) = answer["data"]
    assert tweet["id"] == new != old
    assert tweet["referenced_tweets"] == [{"type": "replied_to", "id": "2007"}]
    assert answer["includes"]["users"][0]["username"] == "samo"
    assert (
        HTTP.get(f"{x.url}/2/users/{ME}/mentions", headers=AUTH, params={"max_results": "2"}).status_code
        == 400
    )
    assert HTTP.get(f"{x.url}/2/users/999/mentions", headers=AUTH).json() == {"meta": {"result_count": 0}}
    x.fail_next(1, kind="mentions")
    assert HTTP.get(f"{x.url}/2/users/{ME}/mentions", headers=AUTH).status_code == 503
