"""CPU seconds per process of the system under test, from ``/proc`` (Linux only).

On a two-core machine the question "where does the time go" starts with "which process
burns the CPU": eight busy processes (five services, broker, database, load generator)
share two cores. Reading ``/proc/<pid>/stat`` costs nothing and needs no profiler.
PostgreSQL counts its postmaster plus every backend (one process per connection), and the
children it already reaped (``cutime``/``cstime``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["cpu_seconds", "cpu_share"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return raw[raw.rindex(")") + 2 :].split()


def _own_cpu(fields: list[str], *, with_children: bool) -> float:
    # After the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICKS


def _children_of(parent: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == parent:
                kids.append(int(entry.name))
    return kids


def cpu_seconds(
    pids: Mapping[str, int], *, with_children: frozenset[str] = frozenset({"postgres"})
) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each named process.

    Roles in ``with_children`` add their live and reaped children (PostgreSQL backends).
    The calling process is reported as ``bench`` (load generator and watcher).
    """
    out: dict[str, float] = {}
    for role, pid in pids.items():
        fields = _stat(pid)
        if fields is None:
            continue
        total = _own_cpu(fields, with_children=role in with_children)
        if role in with_children:
            for kid in _children_of(pid):
                kid_fields = _stat(kid)
                if kid_fields is not None:
                    total += _own_cpu(kid_fields, with_children=False)
        out[role] = total
    times = os.times()
    out["bench"] = times.user + times.system
    return out


def cpu_share(before: Mapping[str, float], after: Mapping[str, float], wall_s: float) -> dict[str, float]:
    """Per process, the share of one core used between two samples (1.0 = a full core)."""
    if wall_s <= 0:
        return {}
    return {role: (after[role] - before.get(role, 0.0)) / wall_s for role in after}
