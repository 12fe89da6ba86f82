"""The cockpit: open work by brand, channel and agent (by name), SLA compliance, the replies
waiting for approval (each with its ticket, author, reason and age), incident groups of two
or more open tickets (each opening the queue of that group, and its oldest ticket), spikes,
who is on, and the reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from socialdesk_assigner.web.html import e, layout, table, when
from socialdesk_runtime.config import Agent

__all__ = ["age", "cockpit_html"]

_STATES = ("waiting", "in_progress", "answered", "pending", "stalled", "at_risk", "breached")
_SPIKES = "<tr><th>Brand</th><th>Severity</th><th>Volume</th><th>Baseline</th><th>Negative share</th><th>When</th></tr>"
_HELD = "<tr><th>Ticket</th><th>Brand</th><th>Author</th><th>Why held</th><th>Waiting</th><th>Reply</th></tr>"
_HOT = "<tr><th>Brand</th><th>Group</th><th>Open</th><th>Oldest open ticket</th></tr>"


def age(since: datetime, now: datetime) -> str:
    """How long ago, in the largest unit that says it: "40 s", "12 min", "3 h 5 min", "2 d"."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{seconds // 86400} d"


def _short(text: Any, chars: int = 80) -> str:
    words = " ".join(str(text or "").split())
    return words if len(words) <= chars else words[: chars - 1].rstrip() + "…"


def _ticket_link(ticket_id: Any) -> str:
    return f'<a href="/desk/tickets/{e(ticket_id)}" class="mono">{e(str(ticket_id)[:8])}</a>'


def _held(held: Sequence[Mapping[str, Any]], names: Mapping[str, str], now: datetime) -> str:
    rows = "".join(
        f'<tr data-reply="{e(h["reply_id"])}"><td>{_ticket_link(h["ticket_id"])}</td><td>{e(h["brand"])}</td>'
        f"<td>{e(names.get(h['agent_id'], h['agent_id']))}</td>"
        f"<td>{e(h.get('reason') or '–')}</td>"
        f'<td title="{e(h["created_at"])}">{e(age(h["created_at"], now))}</td>'
        f'<td class="wrap">{e(_short(h["text"]))}</td></tr>'
        for h in held
    )
    empty = '<tr><td colspan="6" class="muted">No reply is waiting for approval.</td></tr>'
    return table(_HELD, rows or empty, attrs=' id="held-list"')


def _groups(groups: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for g in groups:
        where = "/desk/queue?" + urlencode({"group": g["group_id"], "brand": g["brand"]})
        trend = []
        if g.get("volume") is not None:  # the classifier's trend, when it reported one
            trend.append(f"{e(g['volume'])} posts in the trend")
        if g.get("sample_text"):
            trend.append(f"“{e(_short(g['sample_text'], 120))}”")
        said = f'<div class="muted wrap">{" · ".join(trend)}</div>' if trend else ""
        rows.append(
            f'<tr data-group="{e(g["group_id"])}"><td>{e(g["brand"])}</td>'
            f'<td><a href="{e(where)}">{e(g["group_id"])}</a>{said}</td><td>{e(g["open_tickets"])}</td>'
            f"<td>{_ticket_link(g['oldest_ticket_id'])} since {when(g['since'])}</td></tr>"
        )
    empty = '<tr><td colspan="4" class="muted">No incident group has two open tickets or more.</td></tr>'
    return table(_HOT, "".join(rows) or empty, attrs=' id="hot-topics"')


def cockpit_html(
    agent: Agent,
    data: Mapping[str, Any],
    agents: Sequence[Mapping[str, Any]],
    *,
    held: Sequence[Mapping[str, Any]],
    held_total: int | None = None,
    groups: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    now: datetime,
    presence: str | None = None,
) -> str:
    def by(title: str, rows: Mapping[str, Mapping[str, int]], label: Mapping[str, str] | None = None) -> str:
        head = "".join(f"<th>{e(s.replace('_', ' '))}</th>" for s in _STATES)
        shown = sorted(((label or {}).get(k, k), v) for k, v in rows.items())
        body = "".join(
            f"<tr><td>{e(k)}</td>" + "".join(f"<td>{e(v.get(s, 0))}</td>" for s in _STATES) + "</tr>"
            for k, v in shown
        )
        return f"<h2>By {title}</h2>" + table(
            f"<tr><th>{title}</th>{head}</tr>", body, attrs=f' id="by-{title}"'
        )

    sla = data["sla"]
    compliance = "–" if sla["compliance"] is None else f"{sla['compliance'] * 100:.1f}%"
    open_total = sum(sum(v.values()) for v in data["by_brand"].values())
    spikes = "".join(
        f'<tr><td>{e(s["brand"])}</td><td class="s-breached">{e(s["severity"])}</td><td>{e(s["volume"])}</td>'
        f"<td>{e(s['baseline_volume'])}</td><td>{e(s['negative_share'])}</td><td>{when(s['at'])}</td></tr>"
        for s in data.get("spikes", [])
    )
    people = "".join(
        f"<tr><td>{e(a['name'])}</td><td>{e(a['level'])}</td><td>{e(a['status'])}</td>"
        f"<td>{e(a['open_tickets'])} / {e(a['capacity'])}</td></tr>"
        for a in agents
    )
    agent_names = {**names, "unassigned": "unowned"}
    waiting = max(len(held), held_total or 0)
    more = (
        f'<p class="muted" id="held-more">The oldest {len(held)} of {waiting} replies waiting for approval; '
        "approve or reject these to see the rest.</p>"
        if waiting > len(held)
        else ""
    )
    body = f"""<h1>Cockpit</h1><div class="kpis">
<div class="kpi">open<b id="kpi-open">{open_total}</b></div>
<div class="kpi">SLA compliance<b id="kpi-sla">{compliance}</b></div>
<div class="kpi">breaches<b>{e(sla["breached"])}</b></div>
<div class="kpi">online<b>{sum(a["status"] == "online" for a in agents)}</b></div>
<a class="kpi" href="#held">awaiting approval<b id="kpi-held">{waiting}</b></a></div>
<h2 id="held">Awaiting approval</h2>{more}{_held(held, names, now)}
{by("brand", data["by_brand"])}{by("channel", data["by_platform"])}{by("agent", data["by_agent"], agent_names)}
<h2>Hot topics</h2><p class="muted">Incident groups with two or more open tickets; a group opens its queue.</p>
{_groups(groups)}
<h2>Volume spikes (last 24 h)</h2>{table(_SPIKES, spikes or '<tr><td colspan="6" class="muted">No spikes.</td></tr>')}
<h2>Who is on</h2>{table("<tr><th>Agent</th><th>Level</th><th>Status</th><th>Load</th></tr>", people)}
<h2>Reports (last 7 days)</h2><p><a href="/desk/reports.csv?by=agent" id="csv">per agent (CSV)</a> ·
<a href="/desk/reports.csv?by=brand">per brand (CSV)</a> · <a href="/desk/reports.csv?by=platform">per channel (CSV)</a></p>"""
    return layout("Cockpit", body, agent, presence=presence)
