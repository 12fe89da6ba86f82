"""HTML for the desk's queue and cockpit, rendered on the server from the same data the API
returns (the ticket page is in ``ticket``, what pages share in ``html``). Every value is
escaped; the pages need no build step and little script."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from socialdesk_assigner.web.html import e, error_html, layout, signin_html, table
from socialdesk_assigner.web.html import when as _when
from socialdesk_assigner.web.ticket import Viewer, ticket_html
from socialdesk_runtime.config import Agent

__all__ = [
    "Viewer",
    "error_html",
    "layout",
    "queue_html",
    "queue_rows",
    "signin_html",
    "ticket_html",
]


_EXCERPT = 80  # characters of the customer's latest message shown in the queue


def _short(text: Any, chars: int) -> str:
    words = " ".join(str(text or "").split())
    return words if len(words) <= chars else words[: chars - 1].rstrip() + "…"


def _priority(p: str) -> str:
    return f'<span class="pill p-{e(p)}">{e(p)}</span>'


def queue_rows(tickets: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> str:
    if not tickets:
        return '<tr><td colspan="10" class="muted">Nothing waiting. Well done.</td></tr>'
    rows = []
    for t in tickets:
        sla = t.get("sla_state") or ""
        due = _when(t.get("sla_due_at")) or '<span class="muted">–</span>'
        owned_by = t.get("agent_id")
        owner = e(names.get(owned_by, owned_by)) if owned_by else '<span class="muted">unowned</span>'
        esc = (
            f' <span class="pill p-critical">{e(t["escalation_level"])}</span>'
            if t.get("escalation_level")
            else ""
        )
        said = _short(t.get("latest_text"), _EXCERPT)
        customer = (
            f'<td class="customer"><b>{e(t.get("customer_name") or "–")}</b>'
            + (f'<div class="excerpt">{e(said)}</div>' if said else "")
            + "</td>"
        )
        rows.append(
            f'<tr data-ticket="{e(t["ticket_id"])}"><td><a href="/desk/tickets/{e(t["ticket_id"])}" class="mono">'
            f"{e(str(t['ticket_id'])[:8])}</a></td>{customer}<td>{e(t['brand'])}</td><td>{e(t['platform'])} {e(t['kind'])}</td>"
            f"<td>{_priority(t['priority'])}</td><td>{e(t['category'])}</td><td>{e(t['status'])}{esc}</td>"
            f'<td>{owner}</td><td class="s-{e(sla)}">{due} {e(sla)}</td><td>{_when(t["received_at"])}</td></tr>'
        )
    return "".join(rows)


def queue_html(agent: Agent, rows: str, filters: Mapping[str, str], *, presence: str | None = None) -> str:
    def field(name: str, options: Iterable[str]) -> str:
        opts = "".join(
            f'<option value="{e(o)}"{" selected" if filters.get(name) == o else ""}>{e(o or "any " + name)}</option>'
            for o in ("", *options)
        )
        return f'<select name="{name}" aria-label="{name}">{opts}</select>'

    filters_form = (
        '<form method="get" class="action">'
        + field("status", ("open", "assigned", "pending"))
        + field("priority", ("critical", "high", "medium", "low"))
        + field("platform", ("facebook", "instagram", "messenger", "whatsapp", "x", "generic"))
        + field("escalated", ("true", "false"))
        + field("owner", ("me", "none"))
        + "".join(
            f'<input type="hidden" name="{k}" value="{e(filters[k])}">'
            for k in ("group", "brand")
            if filters.get(k)
        )
        + '<button type="submit" class="secondary">Filter</button></form>'
    )
    group = filters.get("group")
    only = (
        f'<p id="group-filter">Only incident group <b>{e(group)}</b>'
        f"{' of ' + e(filters['brand']) if filters.get('brand') else ''} · "
        '<a href="/desk/queue">show the whole queue</a></p>'
        if group
        else ""
    )
    head = (
        "<thead><tr><th>Ticket</th><th>Customer and latest message</th><th>Brand</th><th>Channel</th><th>Priority</th><th>Category</th>"
        "<th>Status</th><th>Owner</th><th>SLA due</th><th>Received</th></tr></thead>"
    )
    body = f"""<h1>Your queue</h1><p class="muted">Most urgent first (SLA due time, then priority).
Updated <span id="updated">now</span>; refreshes by itself.</p>{only}{filters_form}
{table(head, f'<tbody id="queue-body" data-live="3">{rows}</tbody>', attrs=' id="queue"')}"""
    return layout("Queue", body, agent, presence=presence)
