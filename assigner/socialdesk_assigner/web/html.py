"""What every desk page shares: escaping, times, the header (who is signed in, their
presence, sign out), the sign-in page and the error pages."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from socialdesk_assigner.domain.permissions import rank
from socialdesk_runtime.config import Agent

__all__ = ["e", "error_html", "layout", "signin_html", "table", "when"]

#: A tiny inline icon: the browser asks for no /favicon.ico (which would be a 404).
_FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    "%3Crect width='16' height='16' rx='4' fill='%232155cd'/%3E"
    "%3Cpath d='M4 5h8v5H8l-3 2v-2H4z' fill='white'/%3E%3C/svg%3E"
)
_PRESENCE = ("online", "away", "offline")


def e(value: Any) -> str:
    return "" if value is None else escape(str(value))


def when(value: Any) -> str:
    """A time as ``<time>``: UTC and labelled so on the server; the page's script shows it
    in the browser's own zone, labelled with that zone (the follow-up picker is local too)."""
    if value is None or value == "":
        return ""
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return e(value)
    at = (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC)
    return f'<time datetime="{e(at.isoformat())}">{at:%Y-%m-%d %H:%M:%S} UTC</time>'


def table(head: str, rows: str, *, attrs: str = "") -> str:
    """A table that scrolls sideways inside its own box when the screen is narrow."""
    return f'<div class="table-wrap"><table{attrs}>{head}{rows}</table></div>'


def _header(agent: Agent | None, presence: str | None) -> str:
    if agent is None:
        return '<header><a class="brand" href="/desk">socialdesk</a></header>'
    cockpit = '<a href="/desk/cockpit">Cockpit</a>' if rank(agent.level) >= rank("L3") else ""
    select = ""
    if presence is not None:  # unknown here: no selector rather than a wrong one
        shown = presence if presence in _PRESENCE else ("online" if presence == "off_shift" else "offline")
        options = "".join(
            f'<option value="{p}"{" selected" if p == shown else ""}>'
            f"{p}{' (off shift)' if p == 'online' and presence == 'off_shift' else ''}</option>"
            for p in _PRESENCE
        )
        select = (
            f'<label class="presence">presence <select id="presence" aria-label="presence" '
            f'data-current="{e(shown)}">{options}</select></label>'
        )
    return f"""<header><a class="brand" href="/desk/queue">socialdesk</a>
<nav><a href="/desk/queue">Queue</a>{cockpit}<a href="/docs">API</a></nav>
<form method="get" action="/desk/go" class="go" role="search"><input name="ticket" id="go-ticket"
placeholder="ticket id, e.g. 4b37eda1" aria-label="go to ticket" autocomplete="off" required
title="the ticket's id or its first 8 characters"><button type="submit" class="link">Go to ticket</button></form>
<div class="who"><span id="whoami" data-agent="{e(agent.id)}">{e(agent.name)} · {e(agent.level)}</span>
{select}
<form method="post" action="/desk/signout" class="signout"><button type="submit" class="link" id="signout">Sign out</button></form>
</div></header>"""


def layout(title: str, body: str, agent: Agent | None = None, *, presence: str | None = None) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · socialdesk</title><link rel="icon" href="{_FAVICON}">
<link rel="stylesheet" href="/desk/assets/desk.css"><script src="/desk/assets/desk.js"></script></head>
<body>{_header(agent, presence)}<main><div id="flash" role="status" aria-live="polite"></div>{body}</main></body></html>"""


def signin_html(
    problem: str = "", *, agent: Agent | None = None, after: str = "", presence: str | None = None
) -> str:
    note = f'<p class="flash-bad" id="signin-error" role="alert">{e(problem)}</p>' if problem else ""
    current = (
        f'<p class="muted">You are signed in as <b>{e(agent.name)}</b>. Signing in with another '
        "token replaces that in every tab.</p>"
        '<form method="post" action="/desk/signout" id="signout-everywhere">'
        '<input type="hidden" name="everywhere" value="1"><p class="muted">Left the desk open on '
        'another computer? <button type="submit" class="secondary">Sign out everywhere</button></p></form>'
        if agent is not None
        else ""
    )
    return layout(
        "Sign in",
        f"""<div class="card signin"><h1>Sign in to the desk</h1>{note}{current}
<form id="signin" method="post" action="/desk"><input type="hidden" name="next" value="{e(after)}">
<p><label>Your agent token<br><input name="token" type="password" autocomplete="off" required
autofocus></label></p><button type="submit">Sign in</button></form>
<p class="muted">Your token is the one your lead gave you (the desk API's bearer token).</p></div>""",
        agent,
        presence=presence,
    )


def error_html(agent: Agent | None, title: str, message: str, *, presence: str | None = None) -> str:
    body = (
        f'<div class="card error-page"><h1>{e(title)}</h1><p>{e(message)}</p>'
        '<p><a href="/desk/queue" id="back">← Back to your queue</a></p></div>'
    )
    return layout(title, body, agent, presence=presence)
