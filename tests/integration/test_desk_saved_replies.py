"""Saved replies by brand, language and platform tone, and the one-to-many group answer safe
to retry without an Idempotency-Key, through the assigner's real bootstrap on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import ReplyRequested, TicketAssigned
from tests.integration.test_desk import auth, classified, emitted, received
from tests.support import Booted, booted, config_for_tests

pytestmark = pytest.mark.integration

SAVED: dict[str, Any] = {
    "delay_update": {
        "title": "Delay update",
        "text": {
            "en": "Hi {customer_name}, we are sorry your bus is delayed. A replacement leaves at {time}.",
            "es": "Hola {customer_name}, lo sentimos. Sale un autobús de reemplazo a las {time}.",
        },
        "tone": {"x": {"en": "Sorry for the delay! Replacement bus leaves {time}."}},
    },
    "comment_thanks": {"text": {"en": "Thank you {customer_name}!"}, "platforms": ["facebook", "instagram"]},
}


def saved_config() -> SocialdeskConfig:
    base = config_for_tests()
    data = base.model_dump(mode="json", exclude_none=True)
    data["saved_replies"] = {**data["saved_replies"], **SAVED}
    config = SocialdeskConfig.model_validate(data)
    config._env = base._env
    return config


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=saved_config()) as service:
        yield service


async def listing(svc: Booted, query: str, agent: str = "ob-ana") -> dict[str, dict[str, Any]]:
    response = await svc.client.get(f"/v1/saved-replies?{query}", headers=auth(agent))
    assert response.status_code == 200, response.text
    return {r["key"]: r for r in response.json()["saved_replies"]}


async def test_saved_replies_are_listed_by_brand_language_and_platform_tone(svc: Booted) -> None:
    everywhere = await listing(svc, "brand=ourbus&language=en")
    assert {"delay_update", "comment_thanks", "luggage_policy"} <= set(everywhere)
    assert everywhere["delay_update"]["text"].startswith("Hi {customer_name}")
    assert everywhere["delay_update"]["tone"] is None
    on_x = await listing(svc, "brand=ourbus&language=en&platform=x")
    assert "comment_thanks" not in on_x
    assert (on_x["delay_update"]["text"], on_x["delay_update"]["tone"]) == (
        "Sorry for the delay! Replacement bus leaves {time}.",
        "x",
    )
    assert on_x["delay_update"]["placeholders"] == ["time"]
    # the customer's language beats the platform's English wording
    on_x_es = await listing(svc, "brand=ourbus&language=es&platform=x")
    assert on_x_es["delay_update"]["text"].startswith("Hola {customer_name}")
    assert "comment_thanks" in await listing(svc, "brand=ourbus&language=en&platform=instagram")
    bad = await svc.client.get("/v1/saved-replies?brand=ourbus&platform=myspace", headers=auth("ob-ana"))
    assert bad.status_code == 400  # the runtime answers a malformed request 400


async def test_a_saved_reply_is_sent_in_the_tickets_platform_tone_and_not_where_it_is_not_meant(
    svc: Booted,
) -> None:
    on_x = classified(svc, platform="x", kind="mention")
    await svc.feed(received(svc, on_x, "where is my bus"), on_x)
    (assigned,) = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
    url = f"/v1/tickets/{on_x.ticket_id}/reply"
    sent = await svc.client.post(
        url,
        json={"saved_reply": "delay_update", "placeholders": {"time": "14:30"}},
        headers=auth(assigned.agent_id),
    )
    assert sent.status_code == 202, sent.text
    (request,) = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
    assert request.text == "Sorry for the delay! Replacement bus leaves 14:30."
    refused = await svc.client.post(
        url, json={"saved_reply": "comment_thanks"}, headers=auth(assigned.agent_id)
    )
    assert refused.status_code == 422
    assert "on x" in refused.json()["detail"]


async def test_a_group_answer_without_a_key_is_safe_to_retry(svc: Booted) -> None:
    people = [("Ana P", "instagram"), ("Bo Q", "x"), ("Cy R", "facebook")]
    for name, platform in people:
        message = classified(svc, group_id="g-flood", platform=platform, kind="dm")
        await svc.feed(received(svc, message, "bus stuck in the flood", name=name), message)
    await emitted(svc)
    body = {"brand": "ourbus", "saved_reply": "delay_update", "placeholders": {"time": "15:00"}}
    first = await svc.client.post("/v1/groups/g-flood/reply", json=body, headers=auth("ob-lead"))
    assert first.status_code == 202, first.text
    requests = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
    texts = sorted(r.text for r in requests)
    assert texts == [
        "Hi Ana P, we are sorry your bus is delayed. A replacement leaves at 15:00.",
        "Hi Cy R, we are sorry your bus is delayed. A replacement leaves at 15:00.",
        "Sorry for the delay! Replacement bus leaves 15:00.",
    ]
    # the same request again (a client retry after a lost answer): nothing is sent twice
    retry = await svc.client.post("/v1/groups/g-flood/reply", json=body, headers=auth("ob-lead"))
    assert retry.status_code == 202, retry.text
    assert [r["already"] for r in retry.json()["replies"]] == [True, True, True]
    assert {r["reply_id"] for r in retry.json()["replies"]} == {
        r["reply_id"] for r in first.json()["replies"]
    }
    assert [e for e in await emitted(svc) if isinstance(e, ReplyRequested)] == []
    # a customer who joined the group since gets theirs on the retry, the others nothing
    late = classified(svc, group_id="g-flood")
    await svc.feed(received(svc, late, "me too", name="Di S"), late)
    await emitted(svc)
    again = await svc.client.post("/v1/groups/g-flood/reply", json=body, headers=auth("ob-lead"))
    assert sorted(r.get("already", False) for r in again.json()["replies"]) == [False, True, True, True]
    (only,) = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
    assert only.ticket_id == late.ticket_id
    # another update (other placeholders), or the same one on purpose with a new key: sent
    update = {**body, "placeholders": {"time": "16:00"}}
    assert (
        await svc.client.post("/v1/groups/g-flood/reply", json=update, headers=auth("ob-lead"))
    ).status_code == 202
    assert len([e for e in await emitted(svc) if isinstance(e, ReplyRequested)]) == 4
    resend = await svc.client.post("/v1/groups/g-flood/reply", json=body, headers=auth("ob-lead", "resend-1"))
    assert resend.status_code == 202
    assert len([e for e in await emitted(svc) if isinstance(e, ReplyRequested)]) == 4
