"""Reading py-spy's folded stacks (``--format raw``): which functions burn the samples.

Each line is ``frame;frame;...;frame count``, outermost first, a frame being
``function (file:line)``. Functions are summed over their lines: *self* counts samples
where the function is innermost, *total* those where it is anywhere on the stack (once
per sample, even when recursive).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

__all__ = ["hottest", "shares"]

_LINE = re.compile(r":\d+\)$")


def _function(frame: str) -> str:
    frame = _LINE.sub(")", frame.strip())
    # Shorten site-packages paths: "fn (/x/.venv/lib/python3.12/site-packages/a/b.py)" -> "fn (a/b.py)".
    return re.sub(r"\(.*?(?:site-packages|lib/python3\.\d+)/", "(", frame)


def shares(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """Samples in all, and per function its self and total sample counts."""
    self_: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for raw in path.read_text(errors="replace").splitlines():
        stack, _, count = raw.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [_function(f) for f in stack.split(";") if f]
        if not frames:
            continue
        self_[frames[-1]] += n
        for fn in set(frames):
            total[fn] += n
    return samples, self_, total


def hottest(path: Path, *, top: int = 15) -> list[str]:
    """Printable lines: the ``top`` functions by self samples, then by total samples."""
    samples, self_, total = shares(path)
    if not samples:
        return ["no samples"]
    lines = [f"{samples} samples"]
    lines += [f"self {n / samples:6.1%}  {fn}" for fn, n in self_.most_common(top)]
    lines += [f"total {n / samples:5.1%}  {fn}" for fn, n in total.most_common(top * 2)[: top * 2]]
    return lines
