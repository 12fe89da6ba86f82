"""Freshdesk back to socialdesk (issue 13's "in sync both ways"), on the ``fd_stack``.

A private note an agent adds in Freshdesk shows on the desk as an internal note and is not
noted back; a ticket resolved in Freshdesk and set Open again there reopens on the desk
(and can be resolved there again); a ticket socialdesk reopens because the customer wrote
again is Open in Freshdesk again, with a private note saying why. The connector's own
private notes come back through the "note is added" rule and are recognised as echoes.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.freshdesk_stack import (
    FD_AGENTS,
    FdStack,
    desk_ticket,
    fd_ticket_saying,
    messenger_dm,
    ticket_id_of,
    wait_for,
)

pytestmark = pytest.mark.e2e

OPEN, RESOLVED = 2, 4


def _notes_saying(page: dict[str, Any], text: str) -> list[dict[str, Any]]:
    return [n for n in page["notes"] if text in str(n.get("text", ""))]


def test_a_private_note_and_a_reopen_in_freshdesk_reach_the_desk_and_ours_reach_freshdesk(
    fd_stack: FdStack,
) -> None:
    stack = fd_stack
    agent = FD_AGENTS["ob-ana"]
    psid = f"61002{uuid.uuid4().int % 10**10:010d}"
    first = f"The 7am bus to Albany left without me ({uuid.uuid4().hex[:6]})"
    echoes_before = stack.metric("notifier_freshdesk_webhooks_total", {"outcome": "echo"})
    messenger_dm(stack, psid, first)
    ticket = wait_for("the Freshdesk ticket", lambda: fd_ticket_saying(stack, first))
    fd_id, ticket_id = ticket["id"], ticket_id_of(ticket)

    # A private note typed in Freshdesk: an internal note on the desk, once, not noted back.
    note = f"Called the depot: the 9am has seats, rebook her ({uuid.uuid4().hex[:6]})"
    stack.fd.agent_note(fd_id, f"<p>{note}</p>", agent_id=agent)
    shown = wait_for("the desk's internal note", lambda: _notes_saying(desk_ticket(stack, ticket_id), note))
    assert len(shown) == 1 and "Freshdesk note by ob-ana@ourbus.example" in shown[0]["text"]
    # The connector's own private note (why we classified it) came back as an echo, and
    # is not taken for an agent's note.
    wait_for("our reasons note", lambda: [n for n in stack.fd.notes_of(fd_id) if "classified" in n["body"]])
    wait_for(
        "the echo of our reasons note",
        lambda: stack.metric("notifier_freshdesk_webhooks_total", {"outcome": "echo"}) > echoes_before,
    )
    assert not _notes_saying(desk_ticket(stack, ticket_id), "classified")

    # Resolved in Freshdesk, then Open again there: resolved, then reopened on the desk.
    stack.fd.agent_set_status(fd_id, RESOLVED, agent_id=agent)
    wait_for("resolved on the desk", lambda: desk_ticket(stack, ticket_id)["status"] == "resolved")
    stack.fd.agent_set_status(fd_id, OPEN, agent_id=agent)
    reopened = wait_for(
        "reopened on the desk",
        lambda: (page := desk_ticket(stack, ticket_id))["status"] != "resolved" and page,
    )
    assert reopened["status"] == "assigned"
    # Reopened there: socialdesk neither notes it back nor sets the status itself.
    assert not [n for n in stack.fd.notes_of(fd_id) if "Reopened in socialdesk" in n["body"]]
    # A second resolve in Freshdesk is news again, not the repeat of the first.
    stack.fd.agent_set_status(fd_id, RESOLVED, agent_id=agent)
    wait_for("resolved again on the desk", lambda: desk_ticket(stack, ticket_id)["status"] == "resolved")

    # The customer writes again: socialdesk reopens it, and Freshdesk follows.
    again = f"Hello? Still no answer about my refund ({uuid.uuid4().hex[:6]})"
    messenger_dm(stack, psid, again)
    wait_for("reopened by the customer", lambda: desk_ticket(stack, ticket_id)["status"] != "resolved")
    wait_for("Open again in Freshdesk", lambda: stack.fd.tickets[fd_id]["status"] == OPEN)
    why = wait_for(
        "the reopen note",
        lambda: [
            n for n in stack.fd.notes_of(fd_id) if n["private"] and "Reopened in socialdesk" in n["body"]
        ],
    )
    assert "the customer wrote again" in why[0]["body"]
    # Its echo (the status rule fires on our update too) changes nothing on the desk.
    stack.fd.wait_webhooks()
    assert desk_ticket(stack, ticket_id)["status"] != "resolved"
    assert len(_notes_saying(desk_ticket(stack, ticket_id), note)) == 1
