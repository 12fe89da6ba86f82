"""FakeMeta: the Graph send APIs answer and fail the way api-notes §1.2–1.6 and §3 say."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.fakes.meta import FakeMeta

TOKEN = "EAAG-test"
PAGE, IG, PHONE = "730011223344556", "17841400000000001", "408877665544332"
PSID, WA_ID = "6123456789012345", "447700900123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HTTP = httpx.Client(timeout=5)  # one client: building one per call costs a CA-bundle load


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Iterator[None]:
    yield
    HTTP.close()


@pytest.fixture
def meta() -> Iterator[FakeMeta]:
    with FakeMeta(token=TOKEN, pages={PAGE}, ig_accounts={IG}, phone_numbers={PHONE}) as fake:
        yield fake


def post(meta: FakeMeta, path: str, body: dict[str, Any], headers: dict[str, str] = AUTH) -> httpx.Response:
    return HTTP.post(f"{meta.url}/v23.0/{path}", json=body, headers=headers)


def graph_error(response: httpx.Response) -> tuple[int, int, int | None]:
    error = response.json()["error"]
    assert {"message", "type", "code", "fbtrace_id"} <= error.keys()
    return response.status_code, error["code"], error.get("error_subcode")


def test_messenger_send_and_private_reply_are_recorded(meta: FakeMeta) -> None:
    sent = post(
        meta,
        f"{PAGE}/messages",
        {
            "recipient": {"id": PSID},
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "message": {"text": "Refund issued.", "metadata": "case:4711"},
        },
    )
    private = post(
        meta, f"{PAGE}/messages", {"recipient": {"comment_id": "880011_990022"}, "message": {"text": "DM"}}
    )
    again = post(
        meta, f"{PAGE}/messages", {"recipient": {"comment_id": "880011_990022"}, "message": {"text": "DM"}}
    )

    assert sent.status_code == 200
    assert sent.json()["recipient_id"] == PSID
    assert sent.json()["message_id"].startswith("m_")
    assert private.status_code == 200
    assert graph_error(again) == (400, 10900, None)  # one private reply per comment
    assert [s.payload["message"]["text"] for s in meta.sends_to("messenger")] == ["Refund issued.", "DM"]


def test_messenger_send_needs_messaging_type_and_an_open_window(meta: FakeMeta) -> None:
    body = {"recipient": {"id": PSID}, "message": {"text": "hi"}}
    assert graph_error(post(meta, f"{PAGE}/messages", body))[1] == 100

    meta.close_window(PSID)
    outside = post(meta, f"{PAGE}/messages", {**body, "messaging_type": "RESPONSE"})
    human = post(meta, f"{PAGE}/messages", {**body, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"})

    assert graph_error(outside) == (400, 10, 2018278)
    assert human.status_code == 200


def test_whatsapp_send_mark_read_and_closed_window(meta: FakeMeta) -> None:
    text = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "context": {"message_id": "wamid.HBgFakeIn01"},
        "text": {"preview_url": False, "body": "Ships tomorrow."},
    }
    sent = post(meta, f"{PHONE}/messages", text)
    read = post(
        meta,
        f"{PHONE}/messages",
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.x"},
    )
    meta.close_window(WA_ID)
    closed = post(meta, f"{PHONE}/messages", text)
    template = post(
        meta,
        f"{PHONE}/messages",
        {
            "messaging_product": "whatsapp",
            "to": WA_ID,
            "type": "template",
            "template": {"name": "order_update", "language": {"code": "en_US"}},
        },
    )

    assert sent.json()["contacts"] == [{"input": WA_ID, "wa_id": WA_ID}]
    assert sent.json()["messages"][0]["id"].startswith("wamid.")
    assert read.json() == {"success": True}
    assert graph_error(closed) == (400, 131047, None)
    assert template.status_code == 200
    too_long = post(meta, f"{PHONE}/messages", {**text, "text": {"body": "x" * 4097}})
    assert graph_error(too_long)[1] == 100


def test_comment_replies(meta: FakeMeta) -> None:
    fb = post(meta, "880011_990022/comments", {"message": "Checking now."})
    ig = HTTP.post(f"{meta.url}/v23.0/18012345678901234/replies", params={"message": "Thanks"}, headers=AUTH)

    assert fb.json()["id"].startswith("880011_")
    assert ig.status_code == 200
    assert [s.api for s in meta.sends] == ["comments", "instagram_replies"]
    assert graph_error(post(meta, "880011_990022/comments", {}))[1] == 100


@pytest.mark.parametrize(
    ("headers", "expected"), [({}, (400, 104, None)), ({"Authorization": "Bearer bad"}, (401, 190, None))]
)
def test_token_is_checked(meta: FakeMeta, headers: dict[str, str], expected: tuple[int, int, None]) -> None:
    assert graph_error(post(meta, "880011_990022/comments", {"message": "x"}, headers)) == expected
    assert meta.sends == []


def test_access_token_query_parameter_is_accepted(meta: FakeMeta) -> None:
    response = HTTP.post(
        f"{meta.url}/v23.0/880011_990022/comments", params={"access_token": TOKEN, "message": "x"}
    )
    assert response.status_code == 200


def test_throttling_uses_the_platform_codes_then_recovers(meta: FakeMeta) -> None:
    meta.rate_limit_next(1, api="whatsapp")
    meta.rate_limit_next(1, api="messenger")
    wa = {"messaging_product": "whatsapp", "to": WA_ID, "type": "text", "text": {"body": "hi"}}
    msg = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}

    throttled_wa, throttled_msg = post(meta, f"{PHONE}/messages", wa), post(meta, f"{PAGE}/messages", msg)

    assert graph_error(throttled_wa) == (400, 130429, None)
    assert graph_error(throttled_msg) == (400, 613, None)
    assert '"call_count": 100' in throttled_msg.headers["X-App-Usage"]
    assert post(meta, f"{PHONE}/messages", wa).status_code == 200
    meta.rate_limit_next(1, status=429)
    assert post(meta, f"{PAGE}/messages", msg).status_code == 429


def test_unknown_object_and_server_errors(meta: FakeMeta) -> None:
    assert graph_error(post(meta, "999/messages", {"recipient": {"id": PSID}})) == (400, 100, 33)
    meta.fail_next(1, status=503)
    failed = post(
        meta, f"{PHONE}/messages", {"messaging_product": "whatsapp", "to": WA_ID, "text": {"body": "x"}}
    )
    assert failed.status_code == 503
    assert failed.json()["error"]["is_transient"] is True


def test_form_encoded_send_with_json_string_values(meta: FakeMeta) -> None:
    response = HTTP.post(
        f"{meta.url}/v23.0/{IG}/messages",
        data={"recipient": '{"id":"1133557799002244"}', "message": '{"text":"Yes, we do."}'},
        headers=AUTH,
    )
    assert response.status_code == 200
    (send,) = meta.wait_for_sends(1, timeout=1)
    assert (send.api, send.payload["message"]) == ("instagram", {"text": "Yes, we do."})


def test_reads_serve_posts_and_instagram_mentions_and_refuse_unknown_objects(meta: FakeMeta) -> None:
    meta.add_post("44_55", message="@OurBus hi", author_id="44", author_name="Lee")
    meta.add_ig_mention("c1", text="@ourbus late", username="ana", user_id="77")
    post = HTTP.get(f"{meta.url}/v23.0/44_55", params={"fields": "id,message,from"}, headers=AUTH)
    assert post.status_code == 200 and post.json()["from"] == {"id": "44", "name": "Lee"}
    fields = "mentioned_comment.comment_id(c1){id,text,username}"
    mention = HTTP.get(f"{meta.url}/v23.0/{IG}", params={"fields": fields}, headers=AUTH)
    assert mention.json()["mentioned_comment"]["text"] == "@ourbus late"
    missing = HTTP.get(f"{meta.url}/v23.0/99_99", params={"fields": "id"}, headers=AUTH)
    assert graph_error(missing) == (400, 100, 33)
    assert HTTP.get(f"{meta.url}/v23.0/44_55").status_code == 400  # no token


# --- comment replies listed: the Facebook "comments" and IG "replies" edges -------------------


def list_replies(meta: FakeMeta, path: str, **params: str) -> httpx.Response:
    return HTTP.get(f"{meta.url}/v23.0/{path}", params=params, headers=AUTH)


def test_our_comment_replies_are_listed_as_graph_lists_them(meta: FakeMeta) -> None:
    clock = iter(datetime(2026, 1, 1, 9, 0, s, tzinfo=UTC) for s in range(60))
    meta.clock = lambda: next(clock)
    meta.add_comment_reply("880011_990022", text="Same here", author_id="5550001112223", author_name="Dana")
    ours = post(meta, "880011_990022/comments", {"message": "Checking now."}).json()["id"]
    ig = HTTP.post(f"{meta.url}/v23.0/18012345678901234/replies", params={"message": "Thanks"}, headers=AUTH)

    fields = "id,message,from,created_time"
    newest = list_replies(meta, "880011_990022/comments", fields=fields, order="reverse_chronological")
    assert newest.json()["data"][0] == {
        "id": ours,
        "message": "Checking now.",
        "from": {"id": PAGE, "name": f"Page {PAGE}"},
        "created_time": "2026-01-01T09:00:01+0000",
    }
    assert [c["from"]["id"] for c in newest.json()["data"]] == [PAGE, "5550001112223"]
    only = list_replies(meta, "880011_990022/comments", fields="id,message").json()["data"]
    assert only == [{"id": only[0]["id"], "message": "Same here"}, {"id": ours, "message": "Checking now."}]
    (reply,) = list_replies(
        meta, "18012345678901234/replies", fields="id,text,from,username,timestamp"
    ).json()["data"]
    assert reply == {
        "id": ig.json()["id"],
        "text": "Thanks",
        "from": {"id": IG, "username": f"account_{IG}"},
        "username": f"account_{IG}",
        "timestamp": "2026-01-01T09:00:02+0000",
    }
    assert [c.route for c in meta.calls if c.request.method == "GET"] == [
        "comments.list",
        "comments.list",
        "instagram.replies",
    ]


def test_replies_come_in_pages_with_cursors(meta: FakeMeta) -> None:
    for i in range(3):
        post(meta, "880011_990022/comments", {"message": f"m{i}"})
    first = list_replies(meta, "880011_990022/comments", fields="message", limit="2").json()
    assert [c["message"] for c in first["data"]] == ["m0", "m1"]
    assert first["paging"]["next"].startswith(meta.url)
    after = first["paging"]["cursors"]["after"]
    rest = list_replies(meta, "880011_990022/comments", fields="message", limit="2", after=after).json()
    assert [c["message"] for c in rest["data"]] == ["m2"]
    assert "next" not in rest["paging"]


def test_unknown_or_deleted_comments_and_unknown_fields_are_graph_errors(meta: FakeMeta) -> None:
    assert graph_error(list_replies(meta, "880011_000000/comments")) == (400, 100, 33)
    meta.add_comment("880011_990022")
    assert list_replies(meta, "880011_990022/comments").json() == {"data": []}
    assert graph_error(list_replies(meta, "880011_990022/comments", fields="id,text"))[1] == 100
    meta.delete_comment("880011_990022")
    assert graph_error(list_replies(meta, "880011_990022/comments")) == (400, 100, 33)
    assert graph_error(post(meta, "880011_990022/comments", {"message": "x"})) == (400, 100, 33)
    assert meta.sends == []


def test_api_scoped_faults_hit_the_listing_too(meta: FakeMeta) -> None:
    meta.add_comment("18012345678901234")
    meta.rate_limit_next(1, api="instagram_replies", status=429)
    meta.fail_next(1, status=503, api="instagram_replies")
    assert graph_error(list_replies(meta, "18012345678901234/replies")) == (429, 613, None)
    assert list_replies(meta, "18012345678901234/replies").status_code == 503
    assert list_replies(meta, "18012345678901234/replies").json() == {"data": []}


def test_a_lost_answer_takes_effect_but_the_client_sees_no_answer(meta: FakeMeta) -> None:
    meta.lose_answer_next(1, api="comments")
    with pytest.raises(httpx.RemoteProtocolError):
        post(meta, "880011_990022/comments", {"message": "Checking now."})
    (send,) = meta.sends
    (reply,) = meta.comment_replies("880011_990022")
    assert reply["id"] == send.response["id"]
    assert post(meta, "880011_990022/comments", {"message": "again"}).status_code == 200
