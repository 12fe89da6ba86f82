"""Run services as child processes, restart the ones that die, stop them all in order.

A small process supervisor (think of a tiny systemd) for ``make run`` and for the
end-to-end tests, which need to SIGKILL a service mid-stream and bring it back. Kept
in-process rather than delegating to an external tool so that the same object gives
tests pids, restart counts and ``kill``/``restart`` without a daemon to talk to.

Usage::

    specs = [ServiceSpec("ingest", (sys.executable, "-m", "socialdesk_ingest"), env={...},
                         ready_url="http://127.0.0.1:8081/readyz")]
    with Supervisor(specs, log_dir=Path(".socialdesk/logs")) as sup:
        sup.wait_ready()
        old = sup.kill("ingest")       # SIGKILL; stays down until restart()
        new = sup.restart("ingest")    # a fresh process, new pid
        sup.wait_ready(["ingest"])

Threading: one monitor thread owns every ``fork``. The children get
``PR_SET_PDEATHSIG`` so a SIGKILLed supervisor leaves no orphan holding ports, and the
kernel fires that signal when the *forking thread* exits; the monitor thread outlives
every child it starts, whichever thread called :meth:`Supervisor.restart`.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from socialdesk_runtime.embedded.process import (
    StartStop,
    describe_exit,
    die_with_parent,
    kill_process,
    stop_processes,
)
from socialdesk_runtime.stack.specs import RestartPolicy, ServiceSpec, ServiceStatus

__all__ = ["RestartPolicy", "ServiceSpec", "ServiceStatus", "Supervisor", "SupervisorError"]

_log = logging.getLogger("socialdesk_runtime.stack.supervisor")

_TICK_S = 0.05


class SupervisorError(RuntimeError):
    """A service could not be started, or did not become ready in time."""


@dataclass(slots=True)
class _Child:
    spec: ServiceSpec
    proc: subprocess.Popen[bytes] | None = None
    started_mono: float = 0.0
    started_at: datetime | None = None
    restarts: int = 0
    failures: int = 0
    last_exit_code: int | None = None
    held: bool = False
    restart_at: float | None = None


class Supervisor(StartStop):
    """Start, watch, restart and stop a set of services (see the module docstring)."""

    def __init__(
        self,
        specs: Sequence[ServiceSpec],
        *,
        log_dir: Path,
        policy: RestartPolicy | None = None,
        stop_timeout_s: float = 10.0,
    ) -> None:
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"service names must be unique: {names}")
        self._children = {s.name: _Child(s) for s in specs}
        self._log_dir = log_dir
        self._policy = policy or RestartPolicy()
        self._stop_timeout_s = stop_timeout_s
        self._lock = threading.RLock()
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._passes = 0

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start every service (without waiting for readiness: see :meth:`wait_ready`)."""
        if self._thread is not None:
            raise SupervisorError("supervisor already started")
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._monitor, name="socialdesk-supervisor", daemon=True)
        self._thread.start()
        try:
            for child in self._children.values():
                self._call(functools.partial(self._spawn, child))
        except BaseException:
            self.stop()
            raise

    def stop(self, *, timeout_s: float | None = None) -> None:
        """SIGTERM every service, wait up to ``timeout_s``, SIGKILL the rest. Idempotent.

        The services drain in-flight work on SIGTERM; all of them get the signal at once
        so that the total wait is one grace period, not five.
        """
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join()
        self._thread = None
        with self._lock:
            procs = {c.spec.name: c.proc for c in self._children.values() if c.proc is not None}
        stop_processes(
            procs, timeout=timeout_s if timeout_s is not None else self._stop_timeout_s, group=True
        )
        with self._lock:
            for child in self._children.values():
                if child.proc is not None:
                    child.last_exit_code = child.proc.returncode
                child.proc = None
                child.restart_at = None

    # --- control of one service -----------------------------------------------------------------

    def kill(self, name: str) -> int:
        """SIGKILL a service and keep it down until :meth:`restart`; returns the killed pid.

        Simulates a crash the test controls: no drain, no shutdown hook, and no automatic
        restart, so the test decides how long the service stays away.
        """
        child = self._child(name)
        with self._lock:
            child.held = True
            child.restart_at = None
            proc = child.proc
        if proc is None or proc.poll() is not None:
            raise SupervisorError(f"{name} is not running")
        kill_process(proc, group=True)
        _log.warning("%s (pid %d) killed with SIGKILL; held down until restarted", name, proc.pid)
        return proc.pid

    def stop_service(self, name: str, *, timeout_s: float | None = None) -> None:
        """Stop one service gracefully (SIGTERM, then SIGKILL) and keep it down."""
        child = self._child(name)
        with self._lock:
            child.held = True
            child.restart_at = None
            proc = child.proc
        if proc is not None:
            stop_processes(
                {name: proc}, timeout=timeout_s if timeout_s is not None else self._stop_timeout_s, group=True
            )
            with self._lock:  # record the exit now, not at the monitor's next look
                if child.proc is proc and proc.poll() is not None:
                    child.last_exit_code = proc.returncode
                    child.proc = None

    def restart(self, name: str, *, graceful: bool = True) -> int:
        """(Re)start one service now and return its new pid.

        A running service is stopped first: SIGTERM and a grace period when ``graceful``,
        SIGKILL otherwise. Clears the hold set by :meth:`kill` and :meth:`stop_service`.
        """
        child = self._child(name)
        if child.proc is not None and child.proc.poll() is None:
            if graceful:
                self.stop_service(name)
            else:
                self.kill(name)
        pid: int = self._call(lambda: self._spawn(child, counts_as_restart=True))
        return pid

    # --- observation ------------------------------------------------------------------------

    def pid(self, name: str) -> int | None:
        proc = self._child(name).proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def monitor_passes(self) -> int:
        """How many times the monitor has looked at every child (tests wait on it, not on time)."""
        return self._passes

    def names(self) -> list[str]:
        return list(self._children)

    def status(self) -> list[ServiceStatus]:
        now = time.monotonic()
        with self._lock:
            return [
                ServiceStatus(
                    name=c.spec.name,
                    pid=c.proc.pid if c.proc is not None and c.proc.poll() is None else None,
                    running=c.proc is not None and c.proc.poll() is None,
                    restarts=c.restarts,
                    last_exit_code=c.last_exit_code,
                    held=c.held,
                    next_restart_in_s=max(0.0, c.restart_at - now) if c.restart_at is not None else None,
                    started_at=c.started_at,
                )
                for c in self._children.values()
            ]

    def log_path(self, name: str) -> Path:
        return self._log_dir / f"{self._child(name).spec.name}.log"

    def wait_ready(self, names: Iterable[str] | None = None, *, timeout_s: float = 90.0) -> None:
        """Block until each service's ``ready_url`` answers 200 (services without one: running).

        Raises :class:`SupervisorError` naming the services still not ready, with the tail
        of their logs, so a failing test says why.
        """
        pending = set(names if names is not None else self._children)
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=1.0) as client:
            while pending:
                for name in sorted(pending):
                    if self._is_ready(client, name):
                        pending.discard(name)
                if not pending:
                    return
                if time.monotonic() > deadline:
                    details = "\n".join(f"--- {n} ---\n{self.log_tail(n)}" for n in sorted(pending))
                    raise SupervisorError(f"not ready after {timeout_s:.0f}s: {sorted(pending)}\n{details}")
                time.sleep(0.1)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_path(name)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _is_ready(self, client: httpx.Client, name: str) -> bool:
        child = self._child(name)
        if child.proc is None or child.proc.poll() is not None:
            return False
        if child.spec.ready_url is None:
            return True
        try:
            return client.get(child.spec.ready_url).status_code == 200
        except httpx.HTTPError:
            return False

    # --- internals --------------------------------------------------------------------------

    def _child(self, name: str) -> _Child:
        try:
            return self._children[name]
        except KeyError:
            raise KeyError(f"unknown service {name!r}; known: {list(self._children)}") from None

    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the monitor thread (the one that forks) and return its result."""
        if self._thread is None:
            raise SupervisorError("supervisor is not started")
        if threading.current_thread() is self._thread:
            return fn()
        future: Future[Any] = Future()
        self._commands.put((fn, future))
        return future.result()

    def _monitor(self) -> None:
        while not self._stopping.is_set():
            self._run_commands()
            now = time.monotonic()
            with self._lock:
                children = list(self._children.values())
            for child in children:
                try:
                    self._check(child, now)
                except Exception:  # the monitor must survive anything one child does
                    _log.exception("supervising %s failed", child.spec.name)
            self._passes += 1
            self._stopping.wait(_TICK_S)
        self._run_commands(cancel=True)

    def _run_commands(self, *, cancel: bool = False) -> None:
        while True:
            try:
                fn, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if cancel:
                future.set_exception(SupervisorError("supervisor is stopping"))
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

    def _check(self, child: _Child, now: float) -> None:
        with self._lock:
            proc = child.proc
            if proc is not None and proc.poll() is not None:
                child.last_exit_code = proc.returncode
                child.proc = None
                if child.held:
                    return
                uptime = now - child.started_mono
                child.failures = 1 if uptime >= self._policy.reset_after_s else child.failures + 1
                delay = self._policy.backoff(child.failures)
                child.restart_at = now + delay
                _log.warning(
                    "%s (pid %d) exited with %s after %.1fs; restarting in %.1fs (restart #%d)",
                    child.spec.name,
                    proc.pid,
                    describe_exit(proc.returncode),
                    uptime,
                    delay,
                    child.restarts + 1,
                )
                self._append_log(
                    child, f"exited with {describe_exit(proc.returncode)}; restart in {delay:.1f}s"
                )
                return
            due = child.restart_at is not None and now >= child.restart_at and not child.held
        if due:
            self._spawn(child, counts_as_restart=True)

    def _spawn(self, child: _Child, *, counts_as_restart: bool = False) -> int:
        spec = child.spec
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        log_path = self._log_dir / f"{spec.name}.log"
        with self._lock:
            if counts_as_restart:
                child.restarts += 1
            header = f"starting {spec.argv!r}" + (f" (restart #{child.restarts})" if child.restarts else "")
            self._append_log(child, header)
            with log_path.open("ab") as log:
                try:
                    proc = subprocess.Popen(
                        spec.argv,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=env,
                        cwd=spec.cwd,
                        # Own session: a terminal Ctrl-C reaches only us, and we stop the
                        # services in order; killpg also reaches anything a service forks.
                        start_new_session=True,
                        preexec_fn=die_with_parent,  # prctl only: no locks taken in the child
                    )
                except OSError as exc:
                    raise SupervisorError(f"cannot start {spec.name}: {exc}") from exc
            child.proc = proc
            child.started_mono = time.monotonic()
            child.started_at = datetime.now(UTC)
            child.held = False
            child.restart_at = None
        _log.info("%s started (pid %d), log %s", spec.name, proc.pid, log_path)
        return proc.pid

    def _append_log(self, child: _Child, line: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with (self._log_dir / f"{child.spec.name}.log").open("a") as log:
            log.write(f"---- socialdesk stack {stamp}: {child.spec.name} {line}\n")
