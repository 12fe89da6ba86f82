"""HTML for the desk's pages, rendered on the server from the same data the API returns.
Every value is escaped; the pages need no build step and little script."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from socialdesk_runtime.config import Agent

__all__ = ["cockpit_html", "layout", "queue_html", "queue_rows", "signin_html", "ticket_html"]


def e(value: Any) -> str:
    return "" if value is None else escape(str(value))


def _when(value: Any) -> str:
    text = "" if value is None else str(value)
    return e(text.replace("T", " ")[:19])


def layout(title: str, body: str, agent: Agent | None = None) -> str:
    who = ""
    if agent is not None:
        who = (
            f'<span class="who"><span>{e(agent.name)} · {e(agent.level)}</span>'
            '<select id="presence" aria-label="presence"><option value="">presence…</option>'
            "<option>online</option><option>away</option><option>offline</option></select></span>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · socialdesk</title><link rel="stylesheet" href="/desk/assets/desk.css">
<script src="/desk/assets/desk.js"></script></head>
<body><header><b>socialdesk</b><a href="/desk/queue">Queue</a><a href="/desk/cockpit">Cockpit</a>
<a href="/docs">API</a>{who}</header><main><div id="flash" role="status"></div>{body}</main></body></html>"""


def signin_html(problem: str = "") -> str:
    note = f'<p class="flash-bad">{e(problem)}</p>' if problem else ""
    return layout(
        "Sign in",
        f"""<div class="card signin"><h1>Sign in to the desk</h1>{note}
<form id="signin"><p><label>Your agent token<br><input name="token" type="password" autocomplete="off" required
style="width:100%"></label></p><button type="submit">Sign in</button></form>
<p class="muted">Your token is the one your lead gave you (the desk API's bearer token).</p></div>""",
    )


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


def queue_html(agent: Agent, rows: str, filters: Mapping[str, str]) -> str:
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
    body = f"""<h1>Your queue</h1><p class="muted">Most urgent first (SLA due time, then priority).
Updated <span id="updated">now</span>; refreshes by itself.</p>{filters_form}
<table id="queue"><thead><tr><th>Ticket</th><th>Brand</th><th>Channel</th><th>Priority</th><th>Category</th>
<th>Status</th><th>Owner</th><th>SLA due</th><th>Received</th></tr></thead><tbody id="queue-body">{rows}</tbody></table>
<script>live('#queue-body', 3)</script>"""
    return layout("Queue", body, agent)


def _conversation(items: Sequence[Mapping[str, Any]], ticket_id: str) -> str:
    out = []
    for c in items:
        who = "customer" if c["from"] == "customer" else "reply"
        meta = [e(c.get("author") or c["from"]), _when(c["at"])]
        if c.get("edited"):
            meta.append(f"edited (was: “{e(c.get('original_text'))}”)")
        if c.get("deleted"):
            meta.append("deleted by the customer")
        if c.get("delivery"):
            meta.append(f'<b class="delivery">{e(c["delivery"])}</b>')
        if c.get("failure_reason"):
            meta.append(f'<span class="flash-bad">{e(c["failure_reason"])}</span>')
        if c.get("approved_by") and not c.get("rejected_reason"):
            meta.append(f"approved by {e(c['approved_by'])}")
        if c.get("rejected_reason"):
            meta.append(f"rejected: {e(c['rejected_reason'])}")
        review = ""
        if c.get("delivery") == "pending_approval":
            rid = e(c["reply_id"])
            review = (
                f'<div><button data-url="/v1/replies/{rid}/approve" data-done="Approved and sent">Approve</button> '
                f'<button class="secondary" data-url="/v1/replies/{rid}/reject" data-ask="Why is it rejected?" '
                f'data-done="Rejected">Reject</button></div>'
            )
        deleted = " deleted" if c.get("deleted") else ""
        out.append(
            f'<div class="msg {who}{deleted}"><div class="meta">{" · ".join(meta)}</div>'
            f'<div class="text">{e(c["text"])}</div>{review}</div>'
        )
    return "".join(out) or '<p class="muted">No messages yet.</p>'


def _options(pairs: Iterable[tuple[str, str]], attrs: Mapping[str, Mapping[str, str]] | None = None) -> str:
    out = []
    for value, label in pairs:
        extra = "".join(f' data-{k}="{e(v)}"' for k, v in (attrs or {}).get(value, {}).items())
        out.append(f'<option value="{e(value)}"{extra}>{e(label)}</option>')
    return "".join(out)


def ticket_html(
    agent: Agent, page: Mapping[str, Any], saved: Sequence[Mapping[str, Any]], colleagues: Sequence[Agent]
) -> str:
    tid = e(page["ticket_id"])
    url = f"/v1/tickets/{tid}"
    cls = page.get("classification") or {}
    group = page.get("group")
    customer = page["customer"]
    channels = "".join(
        f"<li>{e(c['platform'])}: {e(c.get('display_name'))} {e(c.get('handle'))}"
        f"{' · ' + e(c['followers']) + ' followers' if c.get('followers') else ''}</li>"
        for c in customer["channels"]
    )
    others = "".join(
        f'<li><a href="/desk/tickets/{e(o["ticket_id"])}">{e(str(o["ticket_id"])[:8])}</a> '
        f"{e(o['brand'])} {e(o['platform'])} {e(o['status'])}</li>"
        for o in customer["other_tickets"]
    )
    clocks = "".join(
        f'<tr><td>{e(c["clock"])}</td><td class="s-{e(c["state"])}">{e(c["state"])}</td><td>{_when(c["due_at"])}</td></tr>'
        for c in page["sla"]
    )
    notes = "".join(
        f'<div class="note"><span class="muted">{e(n["agent_id"])} · {_when(n["added_at"])} · {e(n["kind"])}</span>'
        f"<br>{e(n['text'])}</div>"
        for n in page["notes"]
    )
    history = "".join(
        f"<tr><td>{_when(h['at'])}</td><td>{e(h['kind'])}</td><td>{e(h['actor'])}</td><td>{e(h['detail'])}</td></tr>"
        for h in page["history"]
    )
    saved_opts = _options(
        [("", "— saved reply —")] + [(s["key"], s["title"]) for s in saved],
        {s["key"]: {"text": s["text"]} for s in saved},
    )
    agent_opts = _options(
        [(a.id, f"{a.name} ({a.level})") for a in colleagues if a.id != page.get("agent_id")]
    )
    causes = _options(list(page["root_causes"].items()))
    reasons = ", ".join(e(r) for r in cls.get("reasons", [])) or "–"
    group_html = (
        f"<p>Incident group <b>{e(group['group_id'])}</b>: {e(group['tickets'])} tickets, "
        f"{e(group['open_tickets'])} open. "
        f'<form class="action" data-url="/v1/groups/{e(group["group_id"])}/reply" data-done="Sent to the group">'
        f'<input type="hidden" name="brand" value="{e(page["brand"])}"><select name="saved_reply" required>'
        f"{saved_opts}</select><button>Answer the whole group</button></form></p>"
        if group
        else ""
    )
    owner = page.get("owner") or {}
    body = f"""<h1>Ticket {e(str(page["ticket_id"])[:8])} · {e(page["brand"])} · {e(page["platform"])} {e(page["kind"])}</h1>
<p>{_priority(page["priority"])} <span class="pill">{e(page["category"])}</span> <b id="status">{e(page["status"])}</b>
· owner: <b id="owner">{e(owner.get("name") or owner.get("id") or "unowned")}</b>
{" · escalated to " + e(page["escalation_level"]) if page.get("escalation_level") else ""}</p>
<div class="grid"><section>
<div class="card" id="conversation"><h2>Conversation</h2>{_conversation(page["conversation"], tid)}</div>
<div class="card"><h2>Reply</h2>
<form id="reply-form" class="action" data-url="{url}/reply" data-done="Reply sent">
<select id="saved-reply" name="saved_reply" aria-label="saved reply">{saved_opts}</select>
<input name="ph_booking_number" placeholder="booking number (for {{booking_number}})">
<div id="reply-preview" class="muted" style="width:100%"></div>
<textarea name="text" placeholder="Write to {e(customer["channels"][0]["display_name"] if customer["channels"] else "the customer")}…"></textarea>
<button type="submit">Send reply</button></form>{group_html}</div>
<div class="card"><h2>Work the ticket</h2>
<form class="action" data-url="{url}/claim" data-done="Claimed"><button>Claim</button></form>
<form class="action" data-url="{url}/assign" data-done="Handed off"><select name="agent_id" aria-label="assign to">{agent_opts}</select>
<input name="note" placeholder="hand-off note" size="40"><button>Assign</button></form>
<form class="action" data-url="{url}/pending" data-done="Waiting on the customer"><input name="reason" placeholder="what we wait for" size="40">
<button>Pending</button></form>
<form class="action" data-url="{url}/resolve" data-done="Resolved"><select name="category" aria-label="root cause">{causes}</select>
<input name="root_cause" placeholder="root cause: what happened, what fixed it" size="50" required><button>Resolve</button></form>
<form class="action" data-url="{url}/reopen" data-done="Reopened"><button class="secondary">Reopen</button></form>
<form class="action" data-url="{url}/follow-up" data-done="Follow-up promised"><input type="datetime-local" name="due_at" required aria-label="follow-up due">
<input name="note" placeholder="what we promised"><button class="secondary">Promise follow-up</button></form>
<form class="action" data-url="{url}/feedback" data-done="Feedback asked"><button class="secondary">Ask for feedback</button></form>
<form class="action" data-url="{url}/testimonial" data-done="Marked as testimonial"><input name="note" placeholder="why">
<button class="secondary">Mark testimonial</button></form></div>
</section><aside>
<div class="card"><h2>Customer</h2><ul>{channels}</ul><h2>Other tickets</h2><ul>{others or "<li class=muted>none</li>"}</ul></div>
<div class="card"><h2>Classification</h2><p>{e(cls.get("category"))} · {e(cls.get("sentiment"))} · {e(cls.get("language"))}</p>
<p class="muted">Why: {reasons}</p><pre class="muted">{e(json.dumps(cls.get("confidence") or {}))}</pre></div>
<div class="card"><h2>SLA</h2><table><tr><th>Clock</th><th>State</th><th>Due</th></tr>
{clocks or '<tr><td colspan="3" class="muted">no clock reported yet</td></tr>'}</table>
{"<p>Root cause: <b>" + e(page["root_cause"]) + "</b></p>" if page.get("root_cause") else ""}</div>
<div class="card"><h2>Internal notes</h2>{notes}<form class="action" data-url="{url}/notes" data-done="Note added">
<textarea name="text" placeholder="Only the team sees this" required></textarea><button>Add note</button></form></div>
</aside></div>
<div class="card"><h2>History</h2><table><tr><th>When</th><th>What</th><th>Who</th><th>Detail</th></tr>{history}</table></div>"""
    return layout(f"Ticket {str(page['ticket_id'])[:8]}", body, agent)


def cockpit_html(
    agent: Agent, data: Mapping[str, Any], agents: Sequence[Mapping[str, Any]], held: int
) -> str:
    states = ("waiting", "in_progress", "answered", "pending", "stalled", "at_risk", "breached")

    def table(title: str, rows: Mapping[str, Mapping[str, int]]) -> str:
        head = "".join(f"<th>{e(s)}</th>" for s in states)
        body = "".join(
            f"<tr><td>{e(k)}</td>" + "".join(f"<td>{e(v.get(s, 0))}</td>" for s in states) + "</tr>"
            for k, v in sorted(rows.items())
        )
        return f"<h2>By {title}</h2><table><tr><th>{title}</th>{head}</tr>{body}</table>"

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
{table("brand", data["by_brand"])}{table("channel", data["by_platform"])}{table("agent", data["by_agent"])}
<h2>Hot topics and spikes</h2><table><tr><th>Brand</th><th>Group</th><th>Open</th><th>Volume</th><th>Sample</th></tr>
{hot or '<tr><td colspan="5" class="muted">No incident groups open.</td></tr>'}</table>
<h2>Volume spikes (last 24 h)</h2><table><tr><th>Brand</th><th>Severity</th><th>Volume</th><th>Baseline</th>
<th>Negative share</th><th>When</th></tr>{spikes or '<tr><td colspan="6" class="muted">No spikes.</td></tr>'}</table>
<h2>Who is on</h2><table><tr><th>Agent</th><th>Level</th><th>Status</th><th>Load</th></tr>{people}</table>
<h2>Reports (last 7 days)</h2><p><a href="/desk/reports.csv?by=agent" id="csv">per agent (CSV)</a> ·
<a href="/desk/reports.csv?by=brand">per brand (CSV)</a> · <a href="/desk/reports.csv?by=platform">per channel (CSV)</a></p>"""
    return layout("Cockpit", body, agent)
