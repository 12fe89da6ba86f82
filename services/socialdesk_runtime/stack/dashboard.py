"""Render the stack: a live ``rich`` screen on a terminal, plain summaries otherwise.

A pipe or a CI log cannot show a redrawn screen (it would print hundreds of frames), so
when stdout is not a TTY the same facts go out as a few plain lines every few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from socialdesk_runtime.stack.demo import DemoStats
from socialdesk_runtime.stack.observer import StackView
from socialdesk_runtime.stack.specs import ServiceStatus

__all__ = ["DashboardInfo", "plain_summary", "render"]

_PRIORITIES = ("critical", "high", "medium", "low")
_QUEUES = ("cx", "marketing", "ignore")


@dataclass(frozen=True, slots=True)
class DashboardInfo:
    """Static facts about the running stack, shown in the header."""

    mode: str  # "embedded" or "external"
    kafka: str
    postgres: str
    started_mono: float
    config: str
    log_dir: str
    sla_note: str | None = None


def _uptime(started_mono: float) -> str:
    seconds = int(time.monotonic() - started_mono)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _services_table(statuses: Sequence[ServiceStatus], ready: Callable[[str], bool]) -> Table:
    table = Table(title="services", box=box.SIMPLE, expand=True)
    table.add_column("service", no_wrap=True, min_width=11)
    table.add_column("pid", no_wrap=True)
    table.add_column("state", no_wrap=True, min_width=8)
    table.add_column("restarts", justify="right", no_wrap=True)
    table.add_column("exit", justify="right", no_wrap=True)
    for s in statuses:
        if s.running:
            state = Text("ready", style="green") if ready(s.name) else Text("starting", style="yellow")
        elif s.held:
            state = Text("stopped", style="red")
        else:
            wait = f" in {s.next_restart_in_s:.0f}s" if s.next_restart_in_s is not None else ""
            state = Text(f"restarting{wait}", style="red")
        restarts = Text(str(s.restarts), style="yellow" if s.restarts else "")
        last = "-" if s.last_exit_code is None else str(s.last_exit_code)
        table.add_row(s.name, str(s.pid or "-"), state, restarts, last)
    return table


def _tickets_table(view: StackView) -> Table:
    counts = view.queue_priority_counts()
    table = Table(title=f"tickets per queue and priority ({view.ticket_count})", box=box.SIMPLE, expand=True)
    table.add_column("queue", no_wrap=True, min_width=9)
    for header in ("crit", "high", "med", "low"):  # same order as _PRIORITIES
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("total", justify="right", style="bold", no_wrap=True)
    queues = list(_QUEUES) + sorted({q for q, _ in counts} - set(_QUEUES))
    for q in queues:
        row = [counts.get((q, p), 0) for p in _PRIORITIES]
        total = sum(c for (qq, _), c in counts.items() if qq == q)
        table.add_row(q, *(str(c) if c else "·" for c in row), str(total))
    return table


def _owners_table(view: StackView) -> Table:
    table = Table(title="who owns what (open tickets; ✓ answered, ! breached)", box=box.SIMPLE, expand=True)
    table.add_column("agent", no_wrap=True, min_width=12)
    table.add_column("lvl", no_wrap=True)
    table.add_column("open", justify="right", no_wrap=True)
    table.add_column("tickets", overflow="ellipsis", no_wrap=True, ratio=1)
    for agent, tickets in view.owners().items():
        marks = " ".join(
            t.short + ("!" if t.breached else "") + ("✓" if t.replied else "") for t in tickets[:6]
        ) + (" …" if len(tickets) > 6 else "")
        table.add_row(agent, tickets[0].owner_level or "?", str(len(tickets)), marks)
    if not view.owners():
        table.add_row("-", "", "0", "(nobody owns a ticket yet)")
    return table


def _sla_panel(view: StackView, demo: DemoStats | None) -> Panel:
    lines = Text()
    lines.append(f"timers armed   {view.timers_armed}\n", style="bold")
    lines.append(f"stopped        {view.timers_stopped}  (agent replied / resolved)\n")
    lines.append(f"warnings       {view.warnings}\n", style="yellow" if view.warnings else "")
    lines.append(f"breaches       {view.breaches}\n", style="red" if view.breaches else "")
    lines.append(f"escalations    {view.escalations}\n", style="red" if view.escalations else "")
    delivered = ", ".join(f"{ch} {n}" for ch, n in sorted(view.deliveries.items())) or "0"
    lines.append(f"notifications  {delivered}")
    if view.delivery_failures:
        lines.append(f"  ({view.delivery_failures} failed)", style="red")
    if view.recent_escalations:
        lines.append("\n\nrecent escalations\n", style="bold")
        lines.append("\n".join(view.recent_escalations))
    if demo is not None:
        lines.append("\n\ndemo  ", style="bold")
        lines.append(f"posted {demo.posted}/{demo.total}")
        if demo.rejected:
            lines.append(f", {demo.rejected} rejected", style="red")
        lines.append(f", agent replies {demo.replies_sent}")
        if demo.replies_failed:
            lines.append(f" ({demo.replies_failed} failed)", style="red")
        if demo.errors:
            lines.append(f"\n{demo.errors[-1]}", style="dim red")
    return Panel(lines, title="SLA and escalations", box=box.ROUNDED)


def render(
    info: DashboardInfo,
    view: StackView,
    statuses: Sequence[ServiceStatus],
    ready: Callable[[str], bool],
    demo: DemoStats | None,
    *,
    width: int = 160,
) -> RenderableType:
    """The whole screen, rebuilt from scratch each frame (cheap at this size)."""
    header = Text.assemble(
        ("socialdesk ", "bold cyan"),
        f"{info.mode} stack · up {_uptime(info.started_mono)} · "
        f"kafka {info.kafka} · postgres {info.postgres}\n",
        (f"config {info.config} · logs {info.log_dir}", "dim"),
        (f"\n{info.sla_note}" if info.sla_note else "", "dim"),
    )
    services, tickets = _services_table(statuses, ready), _tickets_table(view)
    owners, sla = _owners_table(view), _sla_panel(view, demo)
    if width >= 120:  # side by side; on a narrow terminal stacked, so nothing is cut off
        top, middle = Table.grid(expand=True), Table.grid(expand=True)
        top.add_column(ratio=1)
        top.add_column(ratio=1)
        top.add_row(services, tickets)
        middle.add_column(ratio=3)
        middle.add_column(ratio=2)
        middle.add_row(owners, sla)
        body: list[RenderableType] = [top, middle]
    else:
        body = [services, tickets, owners, sla]
    recent = Text("\n".join(view.recent) or "(waiting for events)", overflow="ellipsis", no_wrap=True)
    footer = Text("Ctrl-C stops everything cleanly", style="dim")
    return Group(
        Panel(header, box=box.HEAVY),
        *body,
        Panel(recent, title=f"events ({view.messages_received} messages received)", box=box.ROUNDED),
        footer,
    )


def plain_summary(view: StackView, statuses: Sequence[ServiceStatus], demo: DemoStats | None) -> str:
    """A few greppable lines for a non-TTY stdout."""
    services = " ".join(
        f"{s.name}={'up' if s.running else 'down'}:{s.pid or '-'}"
        + (f"(r{s.restarts})" if s.restarts else "")
        for s in statuses
    )
    counts = view.queue_priority_counts()
    queues = " ".join(f"{q}/{p}={n}" for (q, p), n in sorted(counts.items())) or "none"
    owners = " ".join(f"{a}={len(ts)}" for a, ts in view.owners().items()) or "none"
    lines = [
        f"[stack] services: {services}",
        f"[stack] messages={view.messages_received} tickets={view.ticket_count} by queue/priority: {queues}",
        f"[stack] owners: {owners}",
        f"[stack] sla: armed={view.timers_armed} stopped={view.timers_stopped} warnings={view.warnings} "
        f"breaches={view.breaches} escalations={view.escalations} "
        f"notifications={sum(view.deliveries.values())} failed={view.delivery_failures}",
    ]
    if demo is not None:
        lines.append(
            f"[stack] demo: posted={demo.posted}/{demo.total} rejected={demo.rejected} "
            f"replies={demo.replies_sent} reply_failures={demo.replies_failed}"
            + (f" (last: {demo.errors[-1]})" if demo.errors else "")
        )
    return "\n".join(lines)
