"""The demo: derive a fast-SLA configuration, replay social messages, play the agents.

The configuration is read loosely (plain YAML, missing keys tolerated): the services
validate it strictly at start, and the launcher only needs a few names from it (the
intake key variable, agents' token variables) and must not break when its schema grows.

Usage::

    cfg = LooseConfig.load(Path("deploy/config/socialdesk.example.yaml"))
    env = cfg.demo_env(os.environ)       # INGEST_API_KEYS=demo-key, AGENT_*_TOKEN=...
    stats = DemoStats()
    await replay(Path("deploy/demo/messages.jsonl"), ingest_url, api_key, stats, rate=4)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from socialdesk_schemas import Event, TicketAssigned, TicketQueued, TicketResolved

__all__ = ["DemoStats", "LooseConfig", "Replier", "load_demo_messages", "replay"]

_log = logging.getLogger("socialdesk_runtime.stack.demo")

DEFAULT_API_KEY = "demo-key"


@dataclass(frozen=True, slots=True)
class LooseConfig:
    """The parts of the deployment YAML the launcher uses, read without validation."""

    path: Path
    raw: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path) -> LooseConfig:
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read configuration {path}: {exc}") from exc
        return cls(path, data if isinstance(data, dict) else {})

    @property
    def api_keys_env(self) -> str:
        intake = self.raw.get("intake")
        name = intake.get("api_keys_env") if isinstance(intake, dict) else None
        return name if isinstance(name, str) and name else "INGEST_API_KEYS"

    def agent_tokens_env(self) -> dict[str, str]:
        """Agent id -> the env variable holding their desk token (agents without one skipped)."""
        agents = self.raw.get("agents")
        out: dict[str, str] = {}
        for agent in agents if isinstance(agents, list) else []:
            if (
                isinstance(agent, dict)
                and isinstance(agent.get("id"), str)
                and isinstance(agent.get("token_env"), str)
            ):
                out[agent["id"]] = agent["token_env"]
        return out

    def demo_env(self, environ: Mapping[str, str]) -> dict[str, str]:
        """Secrets the demo needs, only where the environment does not already set them.

        A real deployment's keys and tokens win; the demo fills the gaps with obviously
        fake values (``demo-key``, ``demo-token-<agent>``).
        """
        env: dict[str, str] = {}
        if not environ.get(self.api_keys_env):
            env[self.api_keys_env] = DEFAULT_API_KEY
        for agent_id, var in self.agent_tokens_env().items():
            if not environ.get(var):
                env[var] = f"demo-token-{agent_id}"
        return env

    def with_fast_sla(self, first_response_seconds: int) -> tuple[dict[str, Any], float]:
        """A copy whose SLA durations are scaled so first response takes the given seconds.

        Every ``*_seconds`` under ``sla`` (the defaults, the per-priority and per-platform
        overrides, the policies and the ladder) is scaled by the same factor, so their
        proportions stay;
        brands' business hours become 24/7 so that a demo at night still breaches. Only
        existing keys are changed: the strict validator sees nothing new.
        """
        raw = copy.deepcopy(dict(self.raw))
        sla = raw.get("sla")
        base = sla.get("first_response_seconds") if isinstance(sla, dict) else None
        if not isinstance(base, int | float) or base <= 0:
            return raw, 1.0
        factor = first_response_seconds / float(base)

        def scale(node: Any) -> None:
            if isinstance(node, list):
                for item in node:
                    scale(item)
            elif isinstance(node, dict):
                for key, value in node.items():
                    if (
                        key.endswith("_seconds")
                        and isinstance(value, int | float)
                        and not isinstance(value, bool)
                    ):
                        node[key] = max(1, round(value * factor))
                    else:
                        scale(value)

        scale(sla)
        for brand in raw.get("brands") or []:
            if isinstance(brand, dict) and "business_hours" in brand:
                brand["business_hours"] = "24/7"
        return raw, factor

    def write_fast_sla(self, target: Path, first_response_seconds: int) -> float:
        """Write :meth:`with_fast_sla` to ``target``; returns the scale factor used."""
        raw, factor = self.with_fast_sla(first_response_seconds)
        header = (
            f"# GENERATED by `socialdesk_runtime.stack run --demo` from {self.path}.\n"
            f"# SLA durations scaled by {factor:.6g} and business hours set to 24/7 so that the\n"
            "# demo shows warnings, breaches and escalations within minutes. Do not deploy.\n"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
        return factor


@dataclass(slots=True)
class DemoStats:
    """What the demo did, for the dashboard."""

    total: int = 0
    posted: int = 0
    rejected: int = 0
    replies_sent: int = 0
    replies_failed: int = 0
    finished: bool = False
    errors: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors = [*self.errors[-4:], message]


def load_demo_messages(path: Path) -> list[dict[str, Any]]:
    """Read the JSONL demo stream (blank lines and ``#`` comments allowed)."""
    messages: list[dict[str, Any]] = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON: {exc}") from exc
        if not isinstance(item, dict):
            raise ValueError(f"{path}:{n}: expected a JSON object")
        messages.append(item)
    return messages


async def replay(
    path: Path,
    ingest_url: str,
    api_key: str,
    stats: DemoStats,
    *,
    rate: float = 4.0,
    run_tag: str | None = None,
) -> None:
    """POST every demo message to ingest's ``/v1/messages`` at ``rate`` per second.

    Platform message ids and authors get a per-run suffix: ingest (rightly) ignores ids it
    has seen, and threads a known author's message into their open conversation, and a
    durable database remembers the previous ``make run``; each run is a new demo story.
    Lines that repeat an id inside the file still repeat it, and show de-duplication.
    """
    messages = load_demo_messages(path)
    stats.total = len(messages)
    tag = run_tag or uuid.uuid4().hex[:6]
    interval = 1.0 / rate if rate > 0 else 0.0
    async with httpx.AsyncClient(timeout=10.0) as client:
        for message in messages:
            body = dict(message)
            body["platform_message_id"] = f"{body.get('platform_message_id', uuid.uuid4().hex)}-{tag}"
            author = dict(body.get("author") or {})
            if "platform_user_id" in author:
                author["platform_user_id"] = f"{author['platform_user_id']}-{tag}"
                body["author"] = author
            body.setdefault("sent_at", datetime.now(UTC).isoformat())
            try:
                response = await client.post(
                    f"{ingest_url}/v1/messages", json=body, headers={"X-API-Key": api_key}
                )
            except httpx.HTTPError as exc:
                stats.rejected += 1
                stats.error(f"intake unreachable: {exc!r}")
            else:
                if response.is_success:
                    stats.posted += 1
                else:
                    stats.rejected += 1
                    stats.error(f"intake said {response.status_code}: {response.text[:160]}")
            await asyncio.sleep(interval)
    stats.finished = True


class Replier:
    """Plays the agents: answers a share of assigned tickets after a human-ish delay.

    Which tickets get an answer is decided by a hash of the ticket id, so a replay looks
    the same each time; the others are left to breach and escalate, which is the point
    of the demo.
    """

    def __init__(
        self,
        desk_url: str,
        tokens: Mapping[str, str],
        stats: DemoStats,
        *,
        ratio: float = 0.5,
        delay_s: tuple[float, float] = (3.0, 12.0),
    ) -> None:
        self._desk_url = desk_url
        self._tokens = dict(tokens)
        self._stats = stats
        self._ratio = ratio
        self._delay_s = delay_s
        self._queue: asyncio.Queue[TicketAssigned] = asyncio.Queue()
        self._answered: set[uuid.UUID] = set()
        #: Who owns each ticket now: a ticket re-routed or escalated before its answer is
        #: answered by its new owner (the desk refuses anyone else, rightly). Forgotten when
        #: the ticket goes back to the queue or is resolved: nobody to answer as.
        self._owner: dict[uuid.UUID, str] = {}

    def offer(self, event: Event) -> None:
        """Observer callback: remember newly assigned tickets, forget those queued or
        resolved (ignores everything else)."""
        if isinstance(event, TicketQueued | TicketResolved):
            self._owner.pop(event.ticket_id, None)
            return
        if not isinstance(event, TicketAssigned):
            return
        self._owner[event.ticket_id] = event.agent_id
        if event.ticket_id in self._answered:
            return
        if self._share(event.ticket_id) < self._ratio:
            self._answered.add(event.ticket_id)
            self._queue.put_nowait(event)

    @staticmethod
    def _share(ticket_id: uuid.UUID) -> float:
        return int(hashlib.sha256(ticket_id.bytes).hexdigest()[:8], 16) / 0xFFFFFFFF

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client, asyncio.TaskGroup() as group:
            while not stop.is_set():
                try:
                    event = await asyncio.wait_for(self._queue.get(), timeout=0.5)
                except TimeoutError:
                    continue
                group.create_task(self._answer(client, event, stop))

    async def _answer(self, client: httpx.AsyncClient, event: TicketAssigned, stop: asyncio.Event) -> None:
        low, high = self._delay_s
        delay = low + (high - low) * self._share(event.event_id)
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return  # stopping: do not reply any more
        except TimeoutError:
            pass
        owner: str | None = ""
        for _ in range(3):
            owner = self._owner.get(event.ticket_id)
            if owner is None:  # back in the queue, or resolved, before the answer: nobody's
                return
            token = self._tokens.get(owner)
            if token is None:  # a lead or manager the demo does not play: theirs to answer
                return
            try:
                response = await client.post(
                    f"{self._desk_url}/v1/tickets/{event.ticket_id}/reply",
                    json={"text": "Thanks for reaching out! I'm looking into this for you right now."},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as exc:
                self._stats.replies_failed += 1
                self._stats.error(f"desk unreachable: {exc!r}")
                return
            if response.is_success:
                self._stats.replies_sent += 1
                return
            if response.status_code != 403:
                break
            # Refused as not the owner: the ticket changed hands (re-routed, escalated) and its
            # new assignment may still be on its way here. Answer as the new owner, or give up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            if stop.is_set():
                return  # stopping: not a failure, the answer was just not made
            if self._owner.get(event.ticket_id) == owner:
                break
        self._stats.replies_failed += 1
        self._stats.error(f"desk reply as {owner} said {response.status_code}: {response.text[:160]}")
