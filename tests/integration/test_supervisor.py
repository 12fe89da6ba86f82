"""The supervisor restarts a crashed service, holds a killed one down until asked, and
stops everything, escalating to SIGKILL for a child that ignores SIGTERM."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from socialdesk_runtime.stack import RestartPolicy, ServiceSpec, Supervisor

pytestmark = pytest.mark.integration

#: A stand-in service: prints its pid, then sleeps; optionally ignores SIGTERM.
_CHILD = """
import os, signal, sys, time
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("child up", os.getpid(), os.environ.get("GREETING"), flush=True)
time.sleep(3600)
"""

_FAST = RestartPolicy(initial_backoff_s=0.1, max_backoff_s=0.5, reset_after_s=30.0)


def _spec(name: str, **env: str) -> ServiceSpec:
    return ServiceSpec(name, (sys.executable, "-c", _CHILD), env=env)


def _wait(predicate: object, timeout: float = 10.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _lines(log: str, prefix: str) -> int:
    return sum(line.startswith(prefix) for line in log.splitlines())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_crashed_service_is_restarted_and_logged(tmp_path: Path) -> None:
    with Supervisor([_spec("alpha", GREETING="hello")], log_dir=tmp_path, policy=_FAST) as sup:
        sup.wait_ready(timeout_s=5)
        first = sup.pid("alpha")
        assert first is not None
        # Ready means running (no ready URL): wait for its line too, or a slow start is killed
        # before it printed anything (seen on a loaded machine: one "child up" in all).
        _wait(lambda: _lines(sup.log_tail("alpha"), "child up") == 1)
        os.kill(first, 9)  # a crash the supervisor did not cause
        _wait(lambda: sup.pid("alpha") not in (None, first))
        status = {s.name: s for s in sup.status()}["alpha"]
        assert status.restarts == 1
        assert status.last_exit_code == -9
        _wait(lambda: _lines(sup.log_tail("alpha"), "child up") == 2)
    log = (tmp_path / "alpha.log").read_text()
    assert f"child up {first} hello" in log  # the child's output, with its environment
    assert "exited with signal SIGKILL" in log


def test_kill_holds_service_down_until_restart(tmp_path: Path) -> None:
    with Supervisor([_spec("alpha"), _spec("beta")], log_dir=tmp_path, policy=_FAST) as sup:
        sup.wait_ready(timeout_s=5)
        killed = sup.kill("alpha")
        assert not _alive(killed)
        seen = sup.monitor_passes
        _wait(lambda: sup.monitor_passes >= seen + 2)  # the monitor has seen alpha dead
        alpha = {s.name: s for s in sup.status()}["alpha"]
        assert alpha.held
        assert alpha.last_exit_code == -9
        assert alpha.next_restart_in_s is None, "a held service gets no restart scheduled"
        assert sup.pid("alpha") is None
        assert sup.pid("beta") is not None

        new = sup.restart("alpha")
        assert new != killed
        assert _alive(new)
        assert sup.pid("alpha") == new
        pids = [sup.pid("alpha"), sup.pid("beta")]
    assert all(pid is not None and not _alive(pid) for pid in pids)


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    sup = Supervisor([_spec("stubborn", IGNORE_TERM="1")], log_dir=tmp_path, stop_timeout_s=0.5)
    sup.start()
    _wait(lambda: _lines(sup.log_tail("stubborn"), "child up") == 1)
    pid = sup.pid("stubborn")
    assert pid is not None
    sup.stop()
    assert not _alive(pid)
    stubborn = {s.name: s for s in sup.status()}["stubborn"]
    assert stubborn.last_exit_code == -9, "SIGTERM was ignored, so the supervisor escalated to SIGKILL"
    sup.stop()  # idempotent


def test_graceful_restart_and_unknown_names(tmp_path: Path) -> None:
    with Supervisor([_spec("alpha")], log_dir=tmp_path, policy=_FAST) as sup:
        old = sup.pid("alpha")
        new = sup.restart("alpha")
        assert new != old
        assert old is not None
        assert not _alive(old)
        with pytest.raises(KeyError, match="unknown service"):
            sup.kill("nope")
