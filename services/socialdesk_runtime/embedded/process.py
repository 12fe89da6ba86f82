"""Child-process plumbing shared by the embedded servers and the stack supervisor.

One way to stop a child: signal it (or its whole process group), wait, SIGKILL what is
left, and always reap, so no zombie or orphan holds a port. Children also get
``PR_SET_PDEATHSIG`` when started from a long-lived thread, so a SIGKILLed parent does
not leave a broker, a postmaster or a service behind (``docs/decisions/0002-embedded-stack.md``).

Usage::

    stop_processes({"ingest": proc_a, "notifier": proc_b}, timeout=10, group=True)
    kill_process(proc)  # SIGKILL and reap at once (reliability tests)
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

__all__ = [
    "ChildServer",
    "EmbeddedStartError",
    "StartStop",
    "describe_exit",
    "die_with_parent",
    "free_port",
    "kill_process",
    "log_tail",
    "preexec",
    "run_async",
    "stop_processes",
]

_log = logging.getLogger(__name__)

_T = TypeVar("_T")

_PR_SET_PDEATHSIG = 1
# prctl is Linux-only; elsewhere children simply do not get the parent-death signal.
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


#: How long a child gets to exit after a polite signal before it is killed.
STOP_TIMEOUT_S = 10.0


class EmbeddedStartError(RuntimeError):
    """An embedded process did not come up; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    Another process may take it before we bind it again; the embedded servers that pick
    their port this way retry start-up on a new one.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """``preexec_fn``: ask the kernel to SIGKILL this child when its parent dies.

    Only for a long-lived forking thread: the signal fires when the thread that forked
    exits, not the process. Runs after ``setuid`` in ``subprocess`` (the kernel clears the
    setting on a credential change), so it still holds for the PostgreSQL system user.
    """
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def preexec() -> Callable[[], None] | None:
    """:func:`die_with_parent` when called from the main thread, else nothing.

    A child started from a worker thread would die as soon as that thread is recycled.
    """
    if _libc is None or threading.current_thread() is not threading.main_thread():
        return None
    return die_with_parent


def log_tail(path: Path | None, lines: int = 30) -> str:
    """The last ``lines`` of a child's log, for an error message that says why."""
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(empty log)"


def _signal(proc: subprocess.Popen[bytes], sig: int, *, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)


def kill_process(proc: subprocess.Popen[bytes], *, group: bool = False) -> None:
    """SIGKILL the child (its whole process group with ``group``) and reap it."""
    _signal(proc, signal.SIGKILL, group=group)
    proc.wait()


def stop_processes(
    procs: Mapping[str, subprocess.Popen[bytes]],
    *,
    timeout: float,
    sig: int = signal.SIGTERM,
    group: bool = False,
) -> None:
    """Send ``sig`` to every live child, wait up to ``timeout`` in all, then SIGKILL and reap.

    All children get the signal at once, so stopping five takes one grace period, not
    five. With ``group`` the signals go to each child's process group (children started
    with ``start_new_session``), and whatever the group still holds at the end is killed.
    """
    live = {name: p for name, p in procs.items() if p.poll() is None}
    for proc in live.values():
        _signal(proc, sig, group=group)
    deadline = time.monotonic() + timeout
    for name, proc in live.items():
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _log.warning(
                "%s (pid %d) ignored %s for %.0fs; killing it",
                name,
                proc.pid,
                signal.Signals(sig).name,
                timeout,
            )
            kill_process(proc, group=group)
    if group:
        for proc in live.values():  # reap grandchildren left in the group, if any
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)


def describe_exit(code: int | None) -> str:
    """``code 1`` / ``signal SIGKILL``: a child's exit status as a person reads it."""
    if code is None:
        return "no exit code"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"code {code}"


def run_async(factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to completion from sync code, whether or not a loop is running.

    ``start()`` of the embedded servers is synchronous so that it works in plain fixtures
    and CLIs; it may still be called from inside an event loop (a test, the stack
    launcher), where ``asyncio.run`` is forbidden. A private thread with its own loop
    works in both.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


class StartStop:
    """``with`` for anything that has ``start()`` and ``stop()``: stopped even on an exception."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class ChildServer(StartStop):
    """One long-lived child process (a dev server): its pid, liveness, stop and kill.

    Subclasses start ``self._proc`` and name the signal that asks it to exit.
    """

    #: The child's name in logs.
    name = "child"
    #: The signal that asks the child to exit cleanly.
    stop_signal: int = signal.SIGTERM

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, *, timeout: float = STOP_TIMEOUT_S) -> None:
        """Send :attr:`stop_signal`, wait up to ``timeout`` seconds, then SIGKILL. Safe to call twice."""
        if self._proc is not None:
            stop_processes({self.name: self._proc}, sig=self.stop_signal, timeout=timeout)
            self._proc = None
        self._after_exit()

    def kill(self) -> None:
        """SIGKILL the child at once and reap it (reliability tests: no chance to clean up)."""
        if self._proc is not None:
            kill_process(self._proc)
            self._proc = None
        self._after_exit()

    def _after_exit(self) -> None:
        """Tidy up what the child used once it is gone (a subclass's temp files)."""
