"""Running the desk (issue 9): presence and shifts, the queue draining when capacity or
presence frees up, idle reassignment, routing rules made real, escalation up the ladder,
managers' reports, and an agent removed from the configuration (issue 7 item 11)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_assigner.presence import DeskWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import (
    SpikeDetected,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
    TrendDetected,
)
from socialdesk_schemas.sla import SlaClockArmed, SlaClockStopped
from tests.integration.test_desk import arrive, auth, breached, desk_config, emitted, ev, page
from tests.support import booted

pytestmark = pytest.mark.integration


async def test_going_offline_hands_tickets_on_and_online_drains_the_queue(fresh_db: str) -> None:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as svc:
        first, second = await arrive(svc, brand="rally"), await arrive(svc, brand="rally")
        waiting = await arrive(svc, brand="rally")
        assert isinstance((await emitted(svc))[-1], TicketQueued)
        # Hugo (Rally's only L1, two slots) goes offline: nobody else works Rally, so his
        # tickets go back to the queue with a hand-off note.
        off = await svc.client.put(
            "/v1/agents/me/status", json={"status": "offline", "note": "shift over"}, headers=auth("ra-hugo")
        )
        assert off.status_code == 200, off.text
        assert off.json()["tickets_moved"] == 2
        released = await emitted(svc)
        assert {e.ticket_id for e in released if isinstance(e, TicketQueued)} == {
            first.ticket_id,
            second.ticket_id,
        }
        body = await page(svc, first.ticket_id, "ra-lead")
        assert body["agent_id"] is None and body["status"] == "open"
        assert any("shift over" in n["text"] for n in body["notes"])
        agents = (await svc.client.get("/v1/agents", headers=auth("ra-lead"))).json()["agents"]
        assert {a["id"]: a["status"] for a in agents}["ra-hugo"] == "offline"
        # Back online: the queue drains to him, most urgent first, up to his capacity.
        on = await svc.client.put("/v1/agents/me/status", json={"status": "online"}, headers=auth("ra-hugo"))
        assert on.json()["tickets_moved"] == 2
        got = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
        assert [e.agent_id for e in got] == ["ra-hugo", "ra-hugo"]
        # Resolving frees a slot: the last waiting ticket is his at once.
        mine = got[0].ticket_id
        done = await svc.client.post(
            f"/v1/tickets/{mine}/resolve", json={"root_cause": "refund done"}, headers=auth("ra-hugo")
        )
        assert done.status_code == 200
        drained = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
        assert len(drained) == 1 and drained[0].agent_id == "ra-hugo"
        assert {e.ticket_id for e in got} | {drained[0].ticket_id} == {
            first.ticket_id,
            second.ticket_id,
            waiting.ticket_id,
        }


async def test_an_agent_off_shift_gets_no_new_tickets(fresh_db: str) -> None:
    # Hugo works 09:00-17:00 UTC on weekdays; the fake clock starts at its own time.
    clock = FakeClock(datetime(2026, 3, 2, 20, 0, tzinfo=UTC))  # a Monday, 20:00
    config = desk_config({"shifts": {"ra-hugo": {"timezone": "UTC", "hours": {"mon": ["09:00-17:00"]}}}})
    async with booted(SPEC, fresh_db, clock=clock, config=config) as svc:
        await arrive(svc, brand="rally")
        (queued,) = await emitted(svc)
        assert isinstance(queued, TicketQueued)
        clock.advance(seconds=14 * 3600)  # Tuesday 10:00: no Tuesday hours
        await arrive(svc, brand="rally")
        assert isinstance((await emitted(svc))[0], TicketQueued)
        agents = (await svc.client.get("/v1/agents", headers=auth("ra-lead"))).json()["agents"]
        assert {a["id"]: a["status"] for a in agents}["ra-hugo"] == "off_shift"


async def test_idle_tickets_are_reassigned_by_the_desk_worker(fresh_db: str) -> None:
    clock = FakeClock()
    config = desk_config({"idle_reassign_seconds": 600})
    async with booted(SPEC, fresh_db, clock=clock, config=config) as svc:
        message = await arrive(svc)
        (assigned,) = await emitted(svc)
        assert isinstance(assigned, TicketAssigned)
        worker = DeskWorker(svc.parts.workers[0]._dispatcher, svc.uow_factory, clock)  # type: ignore[attr-defined]
        assert await worker.tick() == 0
        clock.advance(seconds=601)
        assert await worker.tick() == 1
        (moved,) = await emitted(svc)
        assert isinstance(moved, TicketAssigned)
        assert moved.previous_agent_id == assigned.agent_id
        assert moved.agent_id != assigned.agent_id
        assert moved.ticket_id == message.ticket_id
        kept = await svc.client.post(
            f"/v1/tickets/{message.ticket_id}/notes", json={"text": "x"}, headers=auth("ob-lead", "k-old")
        )
        assert kept.status_code == 201
        clock.advance(seconds=25 * 3600)  # keys are remembered a day
        await worker.tick()
        fresh = await svc.client.post(
            f"/v1/tickets/{message.ticket_id}/notes", json={"text": "y"}, headers=auth("ob-lead", "k-old")
        )
        assert fresh.status_code == 201 and fresh.json() != kept.json()


async def test_routing_rules_from_the_configuration(fresh_db: str) -> None:
    config = desk_config(
        {"specialists": {"safety": ["ob-dee"], "influencer": ["ob-ben"], "influencer_followers": 5000}},
        agents={
            "ob-ana": {"skills": ["live-chat"]},
            "ob-dee": {"languages": ["en", "id"], "skills": ["access"]},
        },
        routing={"keyword_rules": [{"keywords": ["wheelchair"], "skill": "access"}]},
    )
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=config) as svc:

        async def owner(text: str = "My bus is late", **over: Any) -> str:
            await arrive(svc, text, **over)
            (event,) = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
            return event.agent_id

        assert await owner(category="safety") == "ob-dee"
        assert await owner(author_followers=120000) == "ob-ben"
        assert await owner(platform="messenger", kind="dm") == "ob-ana"
        assert await owner(platform="messenger", kind="dm") == "ob-ana"
        assert await owner(language="id") == "ob-dee"
        for _ in range(2):  # the keyword's skill wins over the rotation, every time
            assert await owner("I need a wheelchair ramp at Newark") == "ob-dee"


@pytest.mark.parametrize("policy", ["reassign", "watch"])
async def test_an_escalation_reassigns_up_the_ladder_or_adds_a_watcher(fresh_db: str, policy: str) -> None:
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=desk_config({"escalation": policy})) as svc:
        message = await arrive(svc)
        (assigned,) = await emitted(svc)
        assert isinstance(assigned, TicketAssigned)
        await svc.feed(
            breached(svc, message.ticket_id, svc.runtime.clock.now(), assigned.agent_id),
            TicketEscalated(
                **ev(svc, message.ticket_id),
                brand="ourbus",
                platform="instagram",
                priority="high",
                from_level="L1",
                to_level="L3",
                to_agent_id="ob-lead",
                reason="first response breached",
            ),
        )
        body = await page(svc, message.ticket_id)
        assert body["escalation_level"] == "L3"
        escalated = (await svc.client.get("/v1/queue?escalated=true", headers=auth("ob-lead"))).json()[
            "tickets"
        ]
        assert [t["ticket_id"] for t in escalated] == [str(message.ticket_id)]
        events = await emitted(svc)
        if policy == "reassign":
            (moved,) = events
            assert isinstance(moved, TicketAssigned)
            assert (moved.agent_id, moved.reason, moved.previous_agent_id) == (
                "ob-lead",
                "escalation",
                assigned.agent_id,
            )
        else:
            assert events == []
            assert body["watchers"] == ["ob-lead"] and body["agent_id"] == assigned.agent_id
        assert "TicketEscalated" in [h["kind"] for h in body["history"]]


async def test_reports_per_agent_brand_and_channel_as_json_and_csv(fresh_db: str) -> None:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock) as svc:
        start = clock.now()
        tickets = [await arrive(svc), await arrive(svc, platform="facebook")]
        owners = {e.ticket_id: e.agent_id for e in await emitted(svc) if isinstance(e, TicketAssigned)}
        clock.advance(seconds=60)
        for i, t in enumerate(tickets):
            who = owners[t.ticket_id]
            await svc.client.post(
                f"/v1/tickets/{t.ticket_id}/reply", json={"text": "on it"}, headers=auth(who)
            )
            clock.advance(seconds=60 * (i + 1))
            await svc.client.post(
                f"/v1/tickets/{t.ticket_id}/resolve",
                json={"root_cause": "late bus", "category": "delay"},
                headers=auth(who),
            )
        await svc.feed(
            SlaClockArmed(
                **ev(svc, tickets[0].ticket_id),
                brand="ourbus",
                clock="first_response",
                due_at=start + timedelta(seconds=30),
                armed_at=start,
            ),
            breached(svc, tickets[0].ticket_id, start + timedelta(seconds=30), owners[tickets[0].ticket_id]),
        )
        since = (start - timedelta(minutes=1)).isoformat()
        until = (clock.now() + timedelta(minutes=1)).isoformat()
        q = {"since": since, "until": until}
        assert (
            await svc.client.get("/v1/reports/summary", params=q, headers=auth("ob-ana"))
        ).status_code == 403
        by_brand = (
            await svc.client.get("/v1/reports/summary", params={**q, "by": "brand"}, headers=auth("ob-lead"))
        ).json()
        (row,) = by_brand["rows"]
        assert (row["key"], row["handled"], row["replies"], row["sla_breaches"]) == ("ourbus", 2, 2, 1)
        assert row["first_response_median_s"] == 90.0  # 60 s and 120 s
        assert row["resolution_median_s"] == 180.0  # 120 s and 240 s
        assert row["root_causes"] == {"delay": 2}
        by_platform = (
            await svc.client.get(
                "/v1/reports/summary", params={**q, "by": "platform"}, headers=auth("ob-lead")
            )
        ).json()
        assert [r["key"] for r in by_platform["rows"]] == ["facebook", "instagram"]
        by_agent = (
            await svc.client.get("/v1/reports/summary", params={**q, "by": "agent"}, headers=auth("ob-lead"))
        ).json()
        assert {r["key"] for r in by_agent["rows"]} == set(owners.values())
        as_csv = await svc.client.get(
            "/v1/reports/summary", params={**q, "by": "brand", "format": "csv"}, headers=auth("ob-lead")
        )
        assert as_csv.headers["content-type"].startswith("text/csv")
        (line,) = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert (line["brand"], line["handled"], line["root_cause:delay"]) == ("ourbus", "2", "2")
        # Found by the fuzz at scale: a range whose default start falls before year 1 was a 500.
        for bad in ({"until": "0001-01-02T00:00:00Z"}, {"since": "2026-01-01T00:00:00"}):
            refused = await svc.client.get("/v1/reports/summary", params=bad, headers=auth("ob-lead"))
            assert refused.status_code == 422, refused.text
        hot = await arrive(svc, "stuck on the turnpike", group_id="g-turnpike")
        await svc.feed(
            TrendDetected(
                **ev(svc, hot.ticket_id),
                brand="ourbus",
                group_id="g-turnpike",
                volume=14,
                window_seconds=600,
                sample_text="stuck on the turnpike",
            ),
            SpikeDetected(
                **ev(svc, hot.ticket_id),
                brand="ourbus",
                severity="major",
                volume=40,
                baseline_volume=8.0,
                negative_share=0.7,
                baseline_negative_share=0.2,
                window_seconds=600,
                score=5.1,
            ),
        )
        # Resolved after its breach, the clock is cancelled by sla-monitor: still a breach.
        await svc.feed(
            SlaClockStopped(
                **ev(svc, tickets[0].ticket_id),
                brand="ourbus",
                clock="first_response",
                outcome="cancelled",
                stopped_at=clock.now(),
            )
        )
        cockpit = (await svc.client.get("/v1/reports/cockpit", headers=auth("ob-lead"))).json()
        assert cockpit["sla"]["breached"] == 1 and cockpit["sla"]["compliance"] == 0.0
        assert (
            cockpit["hot_topics"][0]["group_id"] == "g-turnpike" and cockpit["hot_topics"][0]["volume"] == 14
        )
        assert [(s["brand"], s["severity"]) for s in cockpit["spikes"]] == [("ourbus", "major")]
        assert cockpit["by_brand"]["ourbus"]["in_progress"] == 1


async def test_an_agent_removed_from_the_configuration_breaks_nothing(fresh_db: str) -> None:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as svc:
        message = await arrive(svc)
        await emitted(svc)
        # Cid comes online, the lead hands the ticket to Cid, then Cid leaves the company (and the file)
        online = await svc.client.put(
            "/v1/agents/me/status", json={"status": "online"}, headers=auth("ob-cid")
        )
        assert online.status_code == 200, online.text
        await svc.client.post(
            f"/v1/tickets/{message.ticket_id}/assign", json={"agent_id": "ob-cid"}, headers=auth("ob-lead")
        )
    config = desk_config()
    data = config.model_dump(mode="json", exclude_none=True)
    data["agents"] = [a for a in data["agents"] if a["id"] != "ob-cid"]
    from socialdesk_runtime.config import SocialdeskConfig

    smaller = SocialdeskConfig.model_validate(data)
    smaller._env = config._env
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=smaller) as svc:
        body = await page(svc, message.ticket_id)
        assert body["agent_id"] == "ob-cid" and body["owner"] == {"id": "ob-cid", "name": None}
        assert (await svc.client.get("/v1/queue", headers=auth("ob-lead"))).status_code == 200
        assert (await svc.client.get("/v1/queue", headers=auth("ob-cid"))).status_code == 401
        assert (await svc.client.get("/v1/agents", headers=auth("ob-lead"))).status_code == 200
        assert (await svc.client.get("/v1/reports/cockpit", headers=auth("ob-lead"))).status_code == 200
        # an escalation naming the departed agent is recorded, not dead-lettered
        outcome = await svc.feed(
            TicketEscalated(
                **ev(svc, message.ticket_id),
                brand="ourbus",
                platform="instagram",
                priority="high",
                from_level="L1",
                to_level="L2",
                to_agent_id="ob-cid",
                reason="breach",
            )
        )
        assert outcome.get("processed") == 1, outcome
        take = await svc.client.post(
            f"/v1/tickets/{message.ticket_id}/assign", json={"agent_id": "ob-ana"}, headers=auth("ob-lead")
        )
        assert take.status_code == 200, take.text
