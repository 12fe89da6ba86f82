"""The desk's session cookie as a way into the API (decision 0304).

The desk's pages sign an agent in with a session (``sessions.DeskSessions``) whose secret
lives in the ``desk_session`` cookie: ``HttpOnly`` (no script reads it), ``SameSite=Lax``,
``Path=/desk``. The pages call the same API under ``/desk/v1`` (inside the cookie's path);
``Authorization: Bearer`` is unchanged and, when given, is the only thing looked at.

A browser sends a cookie by itself, so a change (any method but GET, HEAD, OPTIONS) made
with it must also prove it comes from the desk's page: the same-origin check the sign-in
form has (:func:`from_the_desk`) and the ``X-Desk-Session-Agent`` header, which a form on
another site cannot set. The header names the agent the page was rendered for: when the
session is now someone else's (another tab signed in), the answer is 409 with
``X-Desk-Session: other-agent`` and nothing is done, so the agent shown is the agent who acts.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from socialdesk_assigner.sessions import DeskSessions, SessionsUnavailable
from socialdesk_assigner.transient import unavailable
from socialdesk_runtime.config import Agent

__all__ = [
    "AGENT_HEADER",
    "COOKIE",
    "DESK_API",
    "LEGACY_COOKIE",
    "OTHER_AGENT",
    "OTHER_AGENT_DETAIL",
    "api_path",
    "claimed_agent",
    "cookie_agent",
    "desk_origin",
    "from_the_desk",
    "in_use",
    "opened",
    "other_agent",
    "secure",
    "session_secret",
]

COOKIE = "desk_session"
#: Before decision 0304 the cookie held the agent's token itself: deleted wherever seen.
LEGACY_COOKIE = "desk_token"
#: Where the pages call the API: inside the cookie's path.
DESK_API = "/desk/v1"
AGENT_HEADER = "X-Desk-Session-Agent"
#: The header of a refusal because the session is now another agent's (the page tells it
#: from any other 409, which is a ticket's conflict).
OTHER_AGENT = {"X-Desk-Session": "other-agent"}
OTHER_AGENT_DETAIL = (
    "Someone else signed in on this browser (another tab) since this page was opened: nothing was done."
)
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME = ("same-origin", "none")  # the desk's own page, or the agent typing the address


def desk_origin(request: Request, public_url: str | None) -> str:
    """The desk's origin as the agent's browser sees it: ``desk.public_url`` when set (behind
    a proxy that ends TLS the request itself says http), else the request's own."""
    return public_url or f"{request.url.scheme}://{request.url.netloc}"


def secure(request: Request, public_url: str | None) -> bool:
    """Whether the session cookie is sent over https only (the desk is reached over https)."""
    return desk_origin(request, public_url).startswith("https://")


def from_the_desk(request: Request, public_url: str | None) -> bool:
    """Whether a request came from the desk's own pages: a browser says where a request comes
    from in ``Sec-Fetch-Site``; an older one without it still sends ``Origin`` on a
    cross-site post, which must then be the desk's own (:func:`desk_origin`). A client that
    sends neither (curl, the tests' HTTP client) is no other site's page."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in _SAME
    origin = request.headers.get("origin")
    return origin is None or origin == desk_origin(request, public_url)


def opened(request: Request) -> bool:
    """Whether a request is a page the browser opens (a navigation), not a script's fetch
    (which says so in ``Sec-Fetch-Mode``; a client that sends no fetch metadata opens)."""
    return request.headers.get("sec-fetch-mode", "navigate") == "navigate"


def in_use(request: Request) -> bool:
    """Whether a request is the agent using the desk, which keeps a session from ending
    idle: a change, or a page they opened; never a page's own question in the background
    (a fetch; the pages' polls also say it by their route)."""
    return request.method not in _SAFE or opened(request)


def claimed_agent(request: Request) -> str | None:
    """The agent the page that asks was rendered for (``None``: not a desk page's script)."""
    return request.headers.get(AGENT_HEADER)


def session_secret(request: Request) -> str:
    return request.cookies.get(COOKIE, "")


def other_agent(request: Request, agent: Agent) -> bool:
    """Whether the page that asks was rendered for another agent than the session's now."""
    claimed = claimed_agent(request)
    return claimed is not None and claimed != agent.id


def api_path(path: str) -> str:
    """The API's own path of a request to it under the desk (the same request either way,
    so an ``Idempotency-Key`` means the same through both doors)."""
    return path.removeprefix("/desk") if path.startswith(DESK_API + "/") else path


async def cookie_agent(request: Request, sessions: DeskSessions) -> Agent:
    """The agent of the request's desk session cookie, with the checks above (403 for a
    change not proven to come from the desk's page, 401 once the session ended, 409 when
    it is another agent's now, 503 while the database does not answer)."""
    if request.method not in _SAFE:
        if not from_the_desk(request, sessions.public_url):
            sessions.refused("not_from_the_desk")
            raise HTTPException(
                status_code=403,
                detail="a change made with the desk's session cookie must come from the desk's own page",
            )
        if request.headers.get(AGENT_HEADER) is None:
            sessions.refused("no_agent_header")
            raise HTTPException(
                status_code=403,
                detail=f"a change made with the desk's session cookie needs the {AGENT_HEADER} header "
                "(the desk's pages send it; other clients use Authorization: Bearer)",
            )
    try:
        agent = await sessions.agent_for(
            session_secret(request), use=in_use(request), claimed=claimed_agent(request)
        )
    except SessionsUnavailable:
        raise unavailable() from None
    if agent is None:
        raise HTTPException(
            status_code=401,
            detail="your desk session has ended (signed out, expired or replaced): sign in again at /desk",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if other_agent(request, agent):
        sessions.refused("other_agent")
        raise HTTPException(status_code=409, detail=OTHER_AGENT_DETAIL, headers=OTHER_AGENT)
    return agent
