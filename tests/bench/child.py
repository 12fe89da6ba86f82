"""A bench section run as ``python -m <module>`` in a child process (its own PostgreSQL and
event loop, so it can run from the bench's async runner): its last JSON line is its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

__all__ = ["run_child"]


def run_child(
    module: str, args: list[str], *, what: str, timeout_s: float, code: str | None = None, prefix: str = ""
) -> tuple[dict[str, Any] | None, str]:
    """Run ``module`` with ``args`` (or the script ``code``); returns (its figures or None, a
    note saying why not). The figures are its last line starting with ``prefix`` + ``{``."""
    try:
        done = subprocess.run(
            [sys.executable, *(["-c", code] if code is not None else ["-m", module]), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"skipped: {what} took over {timeout_s:.0f} s"
    line = next((ln for ln in reversed(done.stdout.splitlines()) if ln.startswith(prefix + "{")), None)
    if done.returncode != 0 or line is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return None, f"failed (exit {done.returncode}): {' | '.join(tail)}"
    figures: dict[str, Any] = json.loads(line.removeprefix(prefix))
    return figures, "measured"
