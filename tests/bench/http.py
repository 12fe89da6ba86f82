"""A minimal HTTP/1.1 keep-alive client for POSTing to intake: the load generator.

Why not httpx: on a two-core machine the load generator competes with the system it
measures. httpx cost about 5 ms of CPU per request here (measured with the same run's
``/proc`` accounting), as much as the whole ingest service spends on a message; this
client costs a small fraction of that, so more of the machine is left to the services and
the figures say more about them. It speaks just enough HTTP for our own intake
(``Content-Length`` bodies, keep-alive, no redirects, no TLS, 127.0.0.1 only).

Usage::

    async with IntakeClient("127.0.0.1", 8081, api_key="k", connections=32) as intake:
        status, body = await intake.post("/v1/messages", b'{"brand": ...}')
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self

__all__ = ["HttpError", "IntakeClient"]


class HttpError(Exception):
    """The connection failed or the answer was not HTTP we understand."""


class _Stale(Exception):
    """The connection was closed before any byte of an answer arrived."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes, bool]:
        """Send one request; return status, body and whether the connection stays open."""
        try:
            self.writer.write(head + body)
            status_line = await self.reader.readline()
        except ConnectionError as exc:
            raise _Stale(str(exc)) from exc
        if not status_line:
            raise _Stale("connection closed")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HttpError(f"not an HTTP answer: {status_line[:80]!r}")
        length = 0
        keep = True
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                keep = False
            elif name == b"transfer-encoding":
                raise HttpError("chunked answers are not supported by the bench client")
        payload = await self.reader.readexactly(length) if length else b""
        return int(parts[1]), payload, keep


class IntakeClient:
    """A pool of keep-alive connections to one host; at most ``connections`` open."""

    def __init__(self, host: str, port: int, *, api_key: str, connections: int) -> None:
        self._host = host
        self._port = port
        self._prefix = (
            f"Host: {host}:{port}\r\nX-API-Key: {api_key}\r\nContent-Type: application/json\r\n"
        ).encode()
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(connections)
        self._all: set[_Connection] = set()

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST ``body``; raise :class:`HttpError` on any connection or protocol failure."""
        head = b"POST " + path.encode() + b" HTTP/1.1\r\n" + self._prefix
        head += b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        async with self._slots:
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else await self._open()
            try:
                status, payload, keep = await conn.request(head, body)
            except _Stale:
                self._drop(conn)
                if not reused:
                    raise HttpError("the server closed a new connection without answering") from None
                # The server closed an idle keep-alive connection (uvicorn does after 5 s)
                # before reading our request: send it again on a new one. Intake drops a
                # repeated platform message id anyway, so a resend can never double a message.
                conn = await self._open()
                try:
                    status, payload, keep = await conn.request(head, body)
                except Exception as exc:
                    self._drop(conn)
                    raise HttpError(f"{type(exc).__name__}: {exc}") from exc
                except BaseException:
                    self._drop(conn)
                    raise
            except (OSError, asyncio.IncompleteReadError, ValueError, HttpError) as exc:
                self._drop(conn)
                raise HttpError(f"{type(exc).__name__}: {exc}") from exc
            except BaseException:
                self._drop(conn)  # cancelled mid-answer: the connection is out of step
                raise
            if keep:
                self._idle.append(conn)
            else:
                self._drop(conn)
            return status, payload

    async def _open(self) -> _Connection:
        try:
            reader, writer = await asyncio.open_connection(self._host, self._port)
        except OSError as exc:
            raise HttpError(f"cannot connect to {self._host}:{self._port}: {exc}") from exc
        conn = _Connection(reader, writer)
        self._all.add(conn)
        return conn

    def _drop(self, conn: _Connection) -> None:
        conn.close()
        self._all.discard(conn)

    async def aclose(self) -> None:
        for conn in list(self._all):
            self._drop(conn)
        self._idle.clear()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
