"""The shared plumbing of the outside-SaaS fakes: a real HTTP server on 127.0.0.1.

Each fake (Slack, Meta, X) is a subclass that turns a parsed :class:`Request` into a
:class:`Reply`. This module owns what they share: a threaded stdlib server on a free port
(usable from sync and async tests alike, since it never touches the test's event loop),
HTTP/1.1 keep-alive, recording of every call, queued faults (rate limits, server errors)
and waiting for a condition with a timeout.

Why stdlib ``ThreadingHTTPServer`` and not uvicorn: it binds port 0 atomically (no race
for a "free" port), starts in microseconds, and needs no event loop in the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Call", "FakeServer", "Fault", "Reply", "Request"]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def bearer(self) -> str | None:
        """The token of an ``Authorization: Bearer`` header, if any."""
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


@dataclass(frozen=True, slots=True)
class Reply:
    """What the fake answers: a status, a JSON (or raw) body and headers."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: No answer at all: the connection is closed (an answer lost on the way back).
    drop: bool = False

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), JSON_CONTENT_TYPE


@dataclass(slots=True)
class Call:
    """One recorded call: the request, the parsed arguments and the answer given."""

    request: Request
    route: str  # e.g. "chat.postMessage", "messenger.send", "tweets.create"
    args: dict[str, Any]
    reply: Reply

    @property
    def status(self) -> int:
        return self.reply.status


@dataclass(slots=True)
class Fault:
    """A canned answer given instead of the real one to the next ``remaining`` matching calls."""

    remaining: int
    make_reply: Callable[[Request], Reply]
    matches: Callable[[Request], bool] = lambda _req: True
    #: Handle the request for real first (its effect happens), then answer the fault:
    #: the ambiguous "it went through, but the client saw an error" case.
    processed: bool = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `calls`
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
        )
        reply = self.server.owner._handle(request)
        if reply.drop:
            self.close_connection = True
            return
        payload, content_type = reply.encode()
        self.send_response(reply.status)
        headers = {"Content-Type": content_type, **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 makes bursts of new connections wait ~1 s for SYN retries
    block_on_close = False  # keep-alive handler threads are closed by FakeServer.stop()
    owner: FakeServer


class FakeServer:
    """Base class: a threaded HTTP server on ``127.0.0.1:<free port>`` with call recording.

    Subclasses implement :meth:`_dispatch`. Use as a context manager, or call
    :meth:`start` / :meth:`stop`.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._faults: list[Fault] = []
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # wake handler threads blocked on an idle keep-alive read
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    # recording -----------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        """Every call answered so far, faults and errors included (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, route: str) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if c.route == route]

    def wait_until(self, predicate: Callable[[], bool], *, timeout: float, what: str = "condition") -> None:
        """Block until ``predicate()`` (evaluated under the fake's lock) is true."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{type(self).__name__}: timed out after {timeout}s waiting for {what}"
                    )
                self._changed.wait(left)

    # A `timeout` argument rather than asyncio.timeout: the wait runs in a worker thread,
    # which cancelling the awaiting task could not stop.
    async def await_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float,
        what: str = "condition",
    ) -> None:
        """:meth:`wait_until` for async tests: waits in a thread, never blocks the event loop."""
        await asyncio.to_thread(self.wait_until, predicate, timeout=timeout, what=what)

    # faults --------------------------------------------------------------------------
    def _inject(self, fault: Fault) -> None:
        if fault.remaining < 0:
            raise ValueError("a fault count cannot be negative")
        with self._lock:
            self._faults.append(fault)

    def down_for(self, seconds: float, *, status: int = 503, body: Any = None) -> None:
        """An outage: every call answers ``status`` for the next ``seconds``, then all is well.

        The server keeps accepting connections (a load balancer in front of a dead
        backend); what a client sees is a run of 5xx answers, which it must wait out.
        """
        until = time.monotonic() + seconds
        reply = Reply(status, body if body is not None else {"ok": False, "error": "service_unavailable"})
        self._inject(Fault(1 << 62, lambda _r: reply, lambda _r: time.monotonic() < until))

    def answer_next(
        self, n: int, reply: Reply, *, matches: Callable[[Request], bool] = lambda _req: True
    ) -> None:
        """The next ``n`` matching calls get ``reply`` as it is (a proxy's HTML page, a cut body)."""
        self._inject(Fault(n, lambda _r: reply, matches))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(request):
                fault.remaining -= 1
                return fault
        return None

    # dispatch ------------------------------------------------------------------------
    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _route_of(self, request: Request) -> str:
        """A short name for the call, used in records and fault matching."""
        return request.path

    def _handle(self, request: Request) -> Reply:
        with self._changed:
            fault = self._take_fault(request)
            route, args = self._route_of(request), dict[str, Any]()
            if fault is None or fault.processed:
                try:
                    route, args, reply = self._dispatch(request)
                except Exception as exc:  # a bug in the fake must not look like a hang
                    reply = Reply(500, {"fake_error": f"{type(exc).__name__}: {exc}"})
            if fault is not None:
                reply = fault.make_reply(request)
            self._calls.append(Call(request, route, args, reply))
            self._changed.notify_all()
            return reply

    def _dispatch(self, request: Request) -> tuple[str, dict[str, Any], Reply]:
        """Answer one request: ``(route, parsed args, reply)``. Called under the lock."""
        raise NotImplementedError
