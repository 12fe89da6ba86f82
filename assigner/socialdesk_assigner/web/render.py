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
    "cockpit_html",
    "error_html",
    "layout",
    "queue_html",
    "queue_rows",
    "signin_html",
    "ticket_html",
]


_HOT = "<tr><th>Brand</th><th>Group</th><th>Open</th><th>Volume</th><th>Sample</th></tr>"
_SPIKES = "<tr><th>Brand</th><th>Severity</th><th>Volume</th><th>Baseline</th><th>Negative share</th><th>When</th></tr>"


def _priority(p: str) -> str:
    return f'<span class="pill p-{e(p)}">{e(p)}</span>'


def queue_rows(tickets: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> str:
    if not tickets:
        return '<tr><td colspan="9" class="muted">Nothing waiting. Well done.</td></tr>'
    rows = []
    for t in tickets:
        sla = t.get("sla_state") or ""
        due = _when(t.get("sla_due_at")) or '<span class="muted">–</span>'
        owner = names.get(t["agent_id"] or "", t["agent_id"] or "") or '<span class="muted">unowned</span>'
        esc = (
            f' <span class="pill p-critical">{e(t["escalation_level"])}</span>'
            if t.get("escalation_level")
            else ""
        )
        rows.append(
            f'<tr data-ticket="{e(t["ticket_id"])}"><td><a href="/desk/tickets/{e(t["ticket_id"])}">'
            f"{e(str(t['ticket_id'])[:8])}</a></td><td>{e(t['brand'])}</td><td>{e(t['platform'])} {e(t['kind'])}</td>"
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
        + '<button type="submit" class="secondary">Filter</button></form>'
    )
    head = (
        "<thead><tr><th>Ticket</th><th>Brand</th><th>Channel</th><th>Priority</th><th>Category</th>"
        "<th>Status</th><th>Owner</th><th>SLA due</th><th>Received</th></tr></thead>"
    )
    body = f"""<h1>Your queue</h1><p class="muted">Most urgent first (SLA due time, then priority).
Updated <span id="updated">now</span>; refreshes by itself.</p>{filters_form}
{table(head, f'<tbody id="queue-body" data-live="3">{rows}</tbody>', attrs=' id="queue"')}"""
    return layout("Queue", body, agent, presence=presence)


def cockpit_html(
    agent: Agent,
    data: Mapping[str, Any],
    agents: Sequence[Mapping[str, Any]],
    held: int,
    *,
    presence: str | None = None,
) -> str:
    states = ("waiting", "in_progress", "answered", "pending", "stalled", "at_risk", "breached")

    def by(title: str, rows: Mapping[str, Mapping[str, int]]) -> str:
        head = "".join(f"<th>{e(s)}</th>" for s in states)
        body = "".join(
            f"<tr><td>{e(k)}</td>" + "".join(f"<td>{e(v.get(s, 0))}</td>" for s in states) + "</tr>"
            for k, v in sorted(rows.items())
        )
        return f"<h2>By {title}</h2>" + table(f"<tr><th>{title}</th>{head}</tr>", body)

    sla = data["sla"]
    compliance = "–" if sla["compliance"] is None else f"{sla['compliance'] * 100:.1f}%"
    open_total = sum(sum(v.values()) for v in data["by_brand"].values())
    hot = "".join(
        f"<tr><td>{e(g['brand'])}</td><td>{e(g['group_id'])}</td><td>{e(g['open_tickets'])}</td>"
        f"<td>{e(g['volume'])}</td><td>{e(g['sample_text'])}</td></tr>"
        for g in data["hot_topics"]
    )
    spikes = "".join(
        f'<tr><td>{e(s["brand"])}</td><td class="s-breached">{e(s["severity"])}</td><td>{e(s["volume"])}</td>'
        f"<td>{e(s['baseline_volume'])}</td><td>{e(s['negative_share'])}</td><td>{_when(s['at'])}</td></tr>"
        for s in data.get("spikes", [])
    )
    people = "".join(
        f"<tr><td>{e(a['name'])}</td><td>{e(a['level'])}</td><td>{e(a['status'])}</td>"
        f"<td>{e(a['open_tickets'])} / {e(a['capacity'])}</td></tr>"
        for a in agents
    )
    body = f"""<h1>Cockpit</h1><div class="kpis">
<div class="kpi">open<b id="kpi-open">{open_total}</b></div>
<div class="kpi">SLA compliance<b id="kpi-sla">{compliance}</b></div>
<div class="kpi">breaches<b>{e(sla["breached"])}</b></div>
<div class="kpi">online<b>{sum(a["status"] == "online" for a in agents)}</b></div>
<div class="kpi">awaiting approval<b>{held}</b></div></div>
{by("brand", data["by_brand"])}{by("channel", data["by_platform"])}{by("agent", data["by_agent"])}
<h2>Hot topics and spikes</h2>{table(_HOT, hot or '<tr><td colspan="5" class="muted">No incident groups open.</td></tr>')}
<h2>Volume spikes (last 24 h)</h2>{table(_SPIKES, spikes or '<tr><td colspan="6" class="muted">No spikes.</td></tr>')}
<h2>Who is on</h2>{table("<tr><th>Agent</th><th>Level</th><th>Status</th><th>Load</th></tr>", people)}
<h2>Reports (last 7 days)</h2><p><a href="/desk/reports.csv?by=agent" id="csv">per agent (CSV)</a> ·
<a href="/desk/reports.csv?by=brand">per brand (CSV)</a> · <a href="/desk/reports.csv?by=platform">per channel (CSV)</a></p>"""
    return layout("Cockpit", body, agent, presence=presence)
