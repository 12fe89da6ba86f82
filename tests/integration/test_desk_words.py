"""Keyword routing whatever the order the customer's words and their classification arrive
in (two topics), through the assigner's real bootstrap on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import MessageClassified, TicketAssigned, TicketQueued
from tests.integration.test_desk import auth, classified, desk_config, emitted, page, received
from tests.support import Booted, booted

pytestmark = pytest.mark.integration

RULES = {
    "keyword_rules": [
        {"keywords": ["wheelchair"], "skill": "access"},
        {"keywords": ["stranded"], "priority": "critical"},
    ]
}


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    config = desk_config(agents={"ob-dee": {"skills": ["access"]}}, routing=RULES)
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=config) as service:
        yield service


async def deliver(
    svc: Booted, text: str, *, words_first: bool, same_batch: bool, **over: object
) -> MessageClassified:
    message = classified(svc, priority="low", **over)
    words = received(svc, message, text)
    order = [words, message] if words_first else [message, words]
    if same_batch:
        outcome = await svc.feed(*order)
        assert outcome["processed"] == 2, outcome
    else:
        for event in order:
            assert (await svc.feed(event))["processed"] == 1
    return message


@pytest.mark.parametrize("same_batch", [True, False], ids=["one-batch", "two-batches"])
@pytest.mark.parametrize("words_first", [True, False], ids=["words-first", "words-late"])
async def test_keyword_rules_see_the_words_whatever_the_order(
    svc: Booted, words_first: bool, same_batch: bool
) -> None:
    for _ in range(3):  # the rotation would spread these; the skill wins every time
        message = await deliver(
            svc, "Stranded! I need a wheelchair lift", words_first=words_first, same_batch=same_batch
        )
        assigned = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
        # the last assignment is where the ticket ends (routed late: first elsewhere, then
        # moved with the raised priority; already with ob-dee: only the priority is raised)
        assert assigned[-1].agent_id == "ob-dee"
        if words_first or len(assigned) > 1:
            assert assigned[-1].priority == "critical"
        body = await page(svc, message.ticket_id)
        assert (body["agent_id"], body["priority"]) == ("ob-dee", "critical")
        if not words_first:
            assert "KeywordRuleApplied" in [h["kind"] for h in body["history"]]


async def test_late_words_leave_an_answered_ticket_and_follow_ups_alone(svc: Booted) -> None:
    message = classified(svc, priority="low")
    await svc.feed(message)
    (assigned,) = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
    if assigned.agent_id != "ob-dee":
        reply = await svc.client.post(
            f"/v1/tickets/{message.ticket_id}/reply",
            json={"text": "Hi, looking into it"},
            headers=auth(assigned.agent_id),
        )
        assert reply.status_code == 202, reply.text
        await emitted(svc)
    await svc.feed(received(svc, message, "I need a wheelchair lift"))
    assert [e for e in await emitted(svc) if isinstance(e, TicketAssigned)] == []
    body = await page(svc, message.ticket_id)
    assert (body["agent_id"], body["priority"]) == (assigned.agent_id, "low")


async def test_a_queued_ticket_drains_to_the_keywords_skill(fresh_db: str) -> None:
    config = desk_config(
        agents={"ob-dee": {"skills": ["access"]}, "ob-ana": {"online": False}, "ob-ben": {"online": False}},
        routing=RULES,
    )
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=config) as svc:
        off = await svc.client.put("/v1/agents/me/status", json={"status": "offline"}, headers=auth("ob-dee"))
        assert off.status_code == 200, off.text
        message = await deliver(svc, "wheelchair space please", words_first=True, same_batch=True)
        assert [type(e) for e in await emitted(svc)] == [TicketQueued]
        back = await svc.client.put("/v1/agents/me/status", json={"status": "online"}, headers=auth("ob-dee"))
        assert back.status_code == 200, back.text
        drained = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
        assert [(e.ticket_id, e.agent_id) for e in drained] == [(message.ticket_id, "ob-dee")]
