"""Wait until the system under test has worked off what an earlier phase left it.

The throughput phase accepts its messages far faster than the pipeline turns them into
tickets, pages and clocks: when it ends, sla-monitor and the notifier still have thousands
of tickets to work through, on the same two cores. A phase measured right then measures
that backlog as much as itself. ``settle`` samples the CPU the stack's processes use
(``/proc``) and returns once a whole window stays under ``busy_cores`` of a core, i.e. the
idle polling of the broker and the services only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from tests.bench.procstat import cpu_seconds

__all__ = ["settle"]


async def settle(
    pids: Callable[[], Mapping[str, int]],
    *,
    busy_cores: float = 1.2,
    window_s: float = 2.0,
    timeout_s: float = 180.0,
) -> tuple[float, float]:
    """Seconds waited until one ``window_s`` window used under ``busy_cores`` cores in all,
    and the cores used in the last window (the stack's idle cost when it settled).

    Gives up after ``timeout_s`` and returns what it has: the caller reports the figure.
    """
    started = time.monotonic()
    while True:
        roles = dict(pids())
        before = cpu_seconds(roles)
        t0 = time.monotonic()
        await asyncio.sleep(window_s)
        after = cpu_seconds(roles)
        used = sum(after[r] - before.get(r, after[r]) for r in after if r != "bench")
        cores = used / (time.monotonic() - t0)
        waited = time.monotonic() - started
        if cores < busy_cores or waited >= timeout_s:
            return waited, cores
