"""Shared by the Freshdesk integration and end-to-end tests: a configuration with the
connector on for ``ourbus`` (the test configuration keeps it off for every other test),
and the events a ticket's life is made of."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig, load_config
from socialdesk_schemas import Author, MessageClassified, MessageReceived
from tests.support import TEST_CONFIG, TEST_ENV, envelope

API_KEY = "fd-test-key"
WEBHOOK_SECRET = "fd-hook-secret"
GROUP_ID = 43000000001
#: Freshdesk agent ids of our agents (the roster mapping).
FD_AGENTS = {"ob-ana": 43000000101, "ob-ben": 43000000102, "ob-lead": 43000000103}
FRESHDESK_ENV = {"TEST_FD_API_KEY": API_KEY, "TEST_FD_WEBHOOK_SECRET": WEBHOOK_SECRET}


def freshdesk_yaml(
    base_url: str,
    *,
    window: float = 60.0,
    create_cap: int = 160,
    share: float = 0.5,
    requests_per_minute: int = 400,
    group_id: int = GROUP_ID,
    enabled: bool = True,
) -> str:
    agents = ", ".join(f"{k}: {v}" for k, v in FD_AGENTS.items())
    return f"""
freshdesk:
  brands:
    ourbus:
      enabled: {"true" if enabled else "false"}
      base_url: {base_url}
      api_key_env: TEST_FD_API_KEY
      webhook_secret_env: TEST_FD_WEBHOOK_SECRET
      group_id: {group_id}
      budget_share: {share}
      requests_per_minute: {requests_per_minute}
      create_cap_per_minute: {create_cap}
      rate_window_seconds: {window}
      pause_seconds: 300
      desk_ticket_url: "https://desk.example/tickets/{{ticket_id}}"
      agents: {{{agents}}}
"""


def write_config(tmp: Path, base_url: str, *, calm_platforms: Sequence[str] = (), **options: Any) -> Path:
    """The test configuration with a ``freshdesk`` section appended (a new top-level key).

    ``calm_platforms``: tickets there get an hour to be answered, not the test's seconds,
    so a burst of them is not also a burst of escalations."""
    text = TEST_CONFIG.read_text()
    if calm_platforms:
        calm = (
            f"  policies:\n    - {{platforms: [{', '.join(calm_platforms)}], first_response_seconds: 3600}}\n"
        )
        assert text.count("\nsla:\n") == 1
        text = text.replace("\nsla:\n", "\nsla:\n" + calm)
    path = tmp / "socialdesk.freshdesk.yaml"
    path.write_text(text + freshdesk_yaml(base_url, **options))
    return path


def freshdesk_config(
    tmp: Path, base_url: str, env: Mapping[str, str] | None = None, **options: Any
) -> SocialdeskConfig:
    return load_config(
        write_config(tmp, base_url, **options), env={**TEST_ENV, **FRESHDESK_ENV, **(env or {})}
    )


def received(
    clock: Clock,
    ticket_id: uuid.UUID,
    *,
    text: str,
    opens: bool = True,
    user: str = "psid-1",
    platform: str = "messenger",
) -> MessageReceived:
    return MessageReceived(
        **envelope(clock, ticket_id),
        message_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        brand="ourbus",
        platform=platform,
        kind="dm",
        platform_message_id=f"m-{uuid.uuid4().hex[:8]}",
        author=Author(platform_user_id=user, display_name="Rina Customer"),
        text=text,
        received_at=clock.now(),
        opens_ticket=opens,
    )


def classified(
    clock: Clock,
    ticket_id: uuid.UUID,
    *,
    priority: str = "high",
    user: str = "psid-1",
    platform: str = "messenger",
    **over: Any,
) -> MessageClassified:
    fields: dict[str, Any] = {
        **envelope(clock, ticket_id),
        "message_id": uuid.uuid4(),
        "conversation_id": uuid.uuid4(),
        "customer_id": uuid.uuid4(),
        "brand": "ourbus",
        "platform": platform,
        "kind": "dm",
        "received_at": clock.now(),
        "platform_message_id": f"m-{uuid.uuid4().hex[:6]}",
        "author_platform_user_id": user,
        "queue": "cx",
        "category": "complaint",
        "priority": priority,
        "sentiment": "negative",
        "language": "en",
        "reasons": ["negative words: late, refund"],
        "group_id": "g-delay-1",
    }
    fields.update(over)
    return MessageClassified(**fields)
