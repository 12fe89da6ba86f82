"""The ticket page: the conversation, the reply box, the actions this viewer may take on the
ticket in its state (the others are not offered), and the context on the side."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from socialdesk_assigner.api.cookie import DESK_API

# the feedback survey's key and default text: how the page knows a survey was sent already
from socialdesk_assigner.api.replies import _FEEDBACK_DEFAULT, _FEEDBACK_KEY
from socialdesk_assigner.domain.permissions import rank
from socialdesk_assigner.web.html import e, layout, table, when
from socialdesk_assigner.web.wording import history_lines
from socialdesk_runtime.config import Agent

__all__ = ["Live", "Viewer", "feedback_asked", "reply_limit", "ticket_html"]

_WORKABLE = ("open", "assigned", "pending")
#: Characters per message each platform takes, and whether a longer text may go in parts.
#: The notifier's ``LIMITS`` (notifier/socialdesk_notifier/domain/replies.py) is the rule;
#: this copy only drives the reply box's counter (a service may not import another).
_LIMITS: dict[tuple[str, str], tuple[int, bool]] = {
    ("messenger", "dm"): (1999, True),
    ("facebook", "comment"): (8000, False),
    ("instagram", "dm"): (1000, True),
    ("instagram", "comment"): (2200, False),
    ("whatsapp", "dm"): (4096, True),
    ("x", "dm"): (10000, True),
    ("x", "mention"): (280, False),
}
_PARTS = 5  # the notifier's MAX_PARTS
_NAMES = {"x": "X", "whatsapp": "WhatsApp", "instagram": "Instagram", "facebook": "Facebook"}


@dataclass(frozen=True)
class Viewer:
    """Who looks at the page and what they may do: ``may_act`` is the domain's
    ``check_may_act``; ``reviewable`` the held replies they may approve or reject."""

    agent: Agent
    may_act: bool
    refusal: str
    presence: str
    reviewable: Collection[str]
    max_chars: int
    #: Everyone's presence: nobody hands a ticket to someone offline (the API refuses it).
    statuses: Mapping[str, str]
    #: Agents' names by id: people are shown by name.
    names: Mapping[str, str]


@dataclass(frozen=True)
class Live:
    """How the open page notices that the ticket changed: it asks ``url`` every ``every``
    seconds and compares the answer's version with ``version`` (what it shows)."""

    url: str
    version: str
    messages: int
    every: int


def _surveys(conversation: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Our feedback surveys on this ticket: the saved reply ``feedback_request``, or the
    desk's default survey text when none is configured."""
    return [
        item
        for item in conversation
        if item.get("delivery") is not None
        and (item.get("template_key") == _FEEDBACK_KEY or item.get("text") == _FEEDBACK_DEFAULT)
    ]


def feedback_asked(conversation: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The survey already sent (or waiting for approval) on this ticket, if any; a rejected
    or failed one may be asked again."""
    live = [s for s in _surveys(conversation) if s.get("delivery") not in ("rejected", "failed")]
    return live[0] if live else None


def reply_limit(platform: str, kind: str, desk_max: int) -> tuple[int, str]:
    """The most characters a reply may have here, and what sets it."""
    known = _LIMITS.get((platform, kind))
    name = _NAMES.get(platform, platform.capitalize())
    if known is None:
        return desk_max, "the desk's limit"
    chars, parts = known
    limit = chars * _PARTS if parts else chars
    if limit >= desk_max:
        return desk_max, "the desk's limit"
    return limit, f"{name} {kind} limit" + (f" ({_PARTS} messages of {chars})" if parts else "")


def _confidence(scores: Any) -> str:
    if not isinstance(scores, Mapping) or not scores:
        return '<p class="muted">No confidence scores.</p>'
    rows = []
    for name, value in sorted(scores.items(), key=lambda kv: str(kv[0])):
        if isinstance(value, int | float) and 0 <= value <= 1:
            shown = f'<meter min="0" max="1" value="{value:.4f}"></meter> {value * 100:.1f}%'
        else:
            shown = e(value)
        rows.append(f"<tr><td>{e(str(name).replace('_', ' '))}</td><td>{shown}</td></tr>")
    return table(
        "<tr><th>Signal</th><th>Confidence</th></tr>", "".join(rows), attrs=' id="confidence" class="compact"'
    )


def _attachments(items: Any) -> str:
    """What the customer sent besides words: a link where the platform serves it (only
    http(s): a link is never script), else its media id."""
    shown = []
    for item in items if isinstance(items, list) else []:
        kind, url, media = e(item.get("type") or "file"), str(item.get("url") or ""), item.get("id")
        if url.startswith(("https://", "http://")):
            shown.append(f'<li><a href="{e(url)}" target="_blank" rel="noopener noreferrer">{kind}</a></li>')
        else:
            shown.append(f"<li>{kind}{' (media id ' + e(media) + ')' if media else ''}</li>")
    return f'<ul class="attachments">{"".join(shown)}</ul>' if shown else ""


def _conversation(items: Sequence[Mapping[str, Any]], viewer: Viewer) -> str:
    out = []
    for c in items:
        who = "customer" if c["from"] == "customer" else "reply"
        delivery = c.get("delivery")
        meta = [e(c.get("author") or c["from"]), when(c["at"])]
        if c.get("edited"):
            meta.append(f"edited (was: “{e(c.get('original_text'))}”)")
        if c.get("deleted"):
            meta.append("deleted by the customer")
        if delivery:
            meta.append(f'<b class="delivery d-{e(delivery)}">{e(delivery)}</b>')
        if delivery == "local":
            meta.append('<span class="muted">written to the local sink only, not sent to the platform</span>')
        if c.get("failure_reason"):
            style = "flash-bad" if delivery == "failed" else "muted"
            meta.append(f'<span class="{style} reason">{e(c["failure_reason"])}</span>')
        if c.get("approved_by") and not c.get("rejected_reason"):
            meta.append(f"approved by {e(viewer.names.get(c['approved_by'], c['approved_by']))}")
        if c.get("rejected_reason"):
            meta.append(f'<span class="flash-bad">rejected: {e(c["rejected_reason"])}</span>')
        review = ""
        if delivery == "pending_approval":
            rid = str(c.get("reply_id"))
            if rid in viewer.reviewable:
                review = (
                    f'<div class="review"><button data-url="{DESK_API}/replies/{e(rid)}/approve" '
                    'data-done="Approved and sent">Approve</button> '
                    f'<button class="secondary" data-url="{DESK_API}/replies/{e(rid)}/reject" '
                    'data-ask="Why is it rejected?" data-done="Rejected">Reject</button></div>'
                )
            elif c.get("agent_id") == viewer.agent.id:
                review = '<div class="muted review">Waiting for a peer or lead to approve it.</div>'
        deleted = " deleted" if c.get("deleted") else ""
        out.append(
            f'<div class="msg {who}{deleted}"><div class="meta">{" · ".join(meta)}</div>'
            f'<div class="text">{e(c["text"])}</div>{_attachments(c.get("attachments"))}{review}</div>'
        )
    return "".join(out) or '<p class="muted">No messages yet.</p>'


def _options(pairs: Iterable[tuple[str, str]], attrs: Mapping[str, Mapping[str, str]] | None = None) -> str:
    out = []
    for value, label in pairs:
        extra = "".join(f' data-{k}="{e(v)}"' for k, v in (attrs or {}).get(value, {}).items())
        out.append(f'<option value="{e(value)}"{extra}>{e(label)}</option>')
    return "".join(out)


def _reply_box(page: Mapping[str, Any], viewer: Viewer, saved_opts: str, url: str) -> str:
    customer = page["customer"]
    limit, by = reply_limit(page["platform"], page["kind"], viewer.max_chars)
    name = customer["channels"][0]["display_name"] if customer["channels"] else "the customer"
    return f"""<form id="reply-form" class="action" data-url="{url}/reply" data-done="Reply sent">
<select id="saved-reply" name="saved_reply" aria-label="saved reply">{saved_opts}</select>
<input name="ph_booking_number" placeholder="booking number (for {{booking_number}})" aria-label="booking number">
<div id="reply-preview" class="preview" hidden></div>
<textarea name="text" aria-label="reply" placeholder="Write to {e(name)}…"></textarea>
<button type="submit">Send reply</button>
<span id="reply-count" class="counter" data-limit="{limit}" data-by="{e(by)}">0 / {limit} ({e(by)})</span>
<p id="reply-over" class="flash-bad" role="alert" hidden></p></form>"""


def _work(page: Mapping[str, Any], viewer: Viewer, colleagues: Sequence[Agent], url: str) -> str:
    status, agent = page["status"], viewer.agent
    workable = page.get("queue") == "cx" and status in _WORKABLE
    if not viewer.may_act:
        return f'<p class="muted" id="may-not-act">{e(viewer.refusal)}</p>'
    forms = []
    if workable and page.get("agent_id") is None:
        forms.append(
            f'<form class="action" data-url="{url}/claim" data-done="Claimed"><button>Claim</button></form>'
        )
    handoff = [a for a in colleagues if a.id != page.get("agent_id")]
    if workable and handoff and (page.get("agent_id") is not None or rank(agent.level) >= rank("L3")):
        opts = "".join(
            f'<option value="{e(a.id)}"'
            + (" disabled" if viewer.statuses.get(a.id) == "offline" and a.id != agent.id else "")
            + f">{e(a.name)} ({e(a.level)}) · {e(viewer.statuses.get(a.id, 'offline').replace('_', ' '))}</option>"
            for a in handoff
        )
        forms.append(
            f'<form class="action" data-url="{url}/assign" data-done="Handed off">'
            f'<select name="agent_id" aria-label="assign to">{opts}</select>'
            '<input name="note" placeholder="hand-off note: what they need to know" size="40" required '
            'aria-label="hand-off note"><button>Assign</button></form>'
        )
    if workable and status != "pending":
        forms.append(
            f'<form class="action" data-url="{url}/pending" data-done="Waiting on the customer">'
            '<input name="reason" placeholder="what we wait for" size="40" aria-label="what we wait for">'
            "<button>Pending</button></form>"
        )
    if status != "resolved":
        causes = _options(list(page["root_causes"].items()))
        forms.append(
            f'<form class="action" data-url="{url}/resolve" data-done="Resolved">'
            f'<select name="category" aria-label="root cause">{causes}</select>'
            '<input name="root_cause" placeholder="root cause: what happened, what fixed it" size="50" required '
            'aria-label="root cause text"><button>Resolve</button></form>'
        )
    if page.get("queue") == "cx" and status in ("resolved", "pending"):
        forms.append(
            f'<form class="action" data-url="{url}/reopen" data-done="Reopened"><button class="secondary">Reopen</button></form>'
        )
    if workable:
        forms.append(
            f'<form class="action" data-url="{url}/follow-up" data-done="Follow-up promised">'
            '<label class="stack"><span>follow-up due (<span class="tz-name">UTC</span>)</span>'
            '<input type="datetime-local" name="due_at" required aria-label="follow-up due"></label>'
            '<input name="note" placeholder="what we promised" aria-label="what we promised">'
            '<button class="secondary">Promise follow-up</button></form>'
        )
        asked = feedback_asked(page["conversation"])
        if asked is None:
            forms.append(
                # one key per ticket and attempt: a second page (another tab, a stale one)
                # asking again is answered with the first survey, not a second one
                f'<form class="action" data-url="{url}/feedback" data-done="Feedback asked" id="feedback" '
                f'data-key="feedback:{e(page["ticket_id"])}:{len(_surveys(page["conversation"]))}" '
                'data-confirm="Send the customer a satisfaction survey now? It goes to them at once.">'
                '<button class="secondary">Ask for feedback</button></form>'
            )
        else:
            held = " (waiting for approval)" if asked.get("delivery") == "pending_approval" else ""
            forms.append(
                f'<p class="muted" id="feedback-asked">Feedback asked {when(asked.get("at"))}{held}; '
                "the survey is sent once per ticket from here.</p>"
            )
    forms.append(
        f'<form class="action" data-url="{url}/testimonial" data-done="Marked as testimonial">'
        '<input name="note" placeholder="why" aria-label="why a testimonial"><button class="secondary">Mark testimonial</button></form>'
    )
    return "".join(forms)


def _live(page: Mapping[str, Any], viewer: Viewer, live: Live) -> str:
    """What the page compares with the ticket's state, and where it says that it changed."""
    owner = page.get("owner") or {}
    data = {
        "url": live.url,
        "version": live.version,
        "messages": live.messages,
        "owner": owner.get("id") or "",
        "owner-name": owner.get("name") or owner.get("id") or "",
        "status": page["status"],
        "may-act": "1" if viewer.may_act else "",
        "every": live.every,
    }
    attrs = "".join(f' data-{k}="{e(v)}"' for k, v in data.items())
    return f'<div id="live" hidden{attrs}></div><div id="changed" class="banner" role="alert" hidden></div>'


def ticket_html(
    viewer: Viewer,
    page: Mapping[str, Any],
    saved: Sequence[Mapping[str, Any]],
    colleagues: Sequence[Agent],
    live: Live,
) -> str:
    names = viewer.names
    tid = e(page["ticket_id"])
    url = f"{DESK_API}/tickets/{tid}"
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
    clocks = (
        "".join(
            f'<tr><td>{e(c["clock"])}</td><td class="s-{e(c["state"])}">{e(c["state"])}</td><td>{when(c["due_at"])}</td></tr>'
            for c in page["sla"]
        )
        or '<tr><td colspan="3" class="muted">no clock reported yet</td></tr>'
    )
    follow_ups = "".join(
        f"<li>due {when(f['due_at'])} · {e(names.get(f['agent_id'], f['agent_id']))}{': ' + e(f['note']) if f.get('note') else ''}</li>"
        for f in page.get("follow_ups") or []
    )
    notes = "".join(
        f'<div class="note"><span class="muted">{e(names.get(n["agent_id"], n["agent_id"]))} · {when(n["added_at"])}'
        f"{'' if n['kind'] == 'note' else ' · ' + e(n['kind'])}</span>"
        f"<br>{e(n['text'])}</div>"
        for n in page["notes"]
    )
    history = "".join(
        f"<tr><td>{at}</td><td>{what}</td><td>{who}</td><td>{detail}</td></tr>"
        for at, what, who, detail in history_lines(page["history"], page["notes"], names)
    )
    saved_opts = _options(
        [("", "— saved reply —")] + [(s["key"], s["title"]) for s in saved],
        {s["key"]: {"text": s["text"]} for s in saved},
    )
    workable = page.get("queue") == "cx" and page["status"] in _WORKABLE
    if not viewer.may_act:
        reply = f'<p class="muted">{e(viewer.refusal)}</p>'
    elif not workable:
        reply = (
            f'<p class="muted" id="reply-closed">The ticket is {e(page["status"])}; reopen it to answer.</p>'
        )
    else:
        reply = _reply_box(page, viewer, saved_opts, url)
    reasons = ", ".join(e(r) for r in cls.get("reasons", [])) or "–"
    group_html = (
        f'<div class="group"><p>Incident group <b>{e(group["group_id"])}</b>: {e(group["tickets"])} tickets, '
        f"{e(group['open_tickets'])} open.</p>"
        # no Idempotency-Key: the desk derives each customer's reply from the group, the saved
        # reply and the caller, so a second click sends nobody the same answer twice
        f'<form class="action" id="group-form" data-url="{DESK_API}/groups/{e(group["group_id"])}/reply" '
        'data-done="Answered the group" data-keyless="1">'
        f'<input type="hidden" name="brand" value="{e(page["brand"])}"><select name="saved_reply" required aria-label="group saved reply">'
        f"{saved_opts}</select><button>Answer the whole group</button></form></div>"
        if group and group.get("open_tickets") and viewer.may_act
        else ""
    )
    owner = page.get("owner") or {}
    body = f"""<h1>Ticket {e(str(page["ticket_id"])[:8])} · {e(page["brand"])} · {e(page["platform"])} {e(page["kind"])}</h1>
<p>{f'<span class="pill p-{e(page["priority"])}">{e(page["priority"])}</span>'} <span class="pill">{e(page["category"])}</span>
<b id="status">{e(page["status"])}</b> · owner: <b id="owner">{e(owner.get("name") or owner.get("id") or "unowned")}</b>
{" · escalated to " + e(page["escalation_level"]) if page.get("escalation_level") else ""}</p>
{_live(page, viewer, live)}<div class="grid"><section>
<div class="card" id="conversation"><h2>Conversation</h2>{_conversation(page["conversation"], viewer)}</div>
<div class="card"><h2>Reply</h2>{reply}{group_html}</div>
<div class="card" id="work"><h2>Work the ticket</h2>{_work(page, viewer, colleagues, url)}</div>
</section><aside>
<div class="card"><h2>Customer</h2><ul>{channels}</ul><h2>Other tickets</h2><ul>{others or "<li class=muted>none</li>"}</ul></div>
<div class="card"><h2>Classification</h2><p>{e(cls.get("category"))} · {e(cls.get("sentiment"))} · {e(cls.get("language"))}</p>
<p class="muted wrap">Why: {reasons}</p>{_confidence(cls.get("confidence"))}</div>
<div class="card"><h2>SLA</h2>{table("<tr><th>Clock</th><th>State</th><th>Due</th></tr>", clocks, attrs=' id="sla"')}
{'<h2>Follow-ups promised</h2><ul id="follow-ups">' + follow_ups + "</ul>" if follow_ups else ""}
{"<p>Root cause: <b>" + e(page["root_cause"]) + "</b></p>" if page.get("root_cause") else ""}</div>
<div class="card"><h2>Internal notes</h2>{notes}<form class="action" data-url="{url}/notes" data-done="Note added">
<textarea name="text" placeholder="Only the team sees this" aria-label="internal note" required></textarea><button>Add note</button></form></div>
</aside></div>
<div class="card"><h2>History</h2>{table("<tr><th>When</th><th>What</th><th>Who</th><th>Detail</th></tr>", history, attrs=' id="history"')}</div>"""
    return layout(f"Ticket {str(page['ticket_id'])[:8]}", body, viewer.agent, presence=viewer.presence)
