"""Which handler failures retry (infrastructure away) and which are poison (the event's fault)."""

from __future__ import annotations

import errno
import socket

import pytest
from aiokafka.errors import KafkaConnectionError

from socialdesk_runtime.errors import TransientError, is_transient


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "refused"),
        ConnectionResetError(errno.ECONNRESET, "reset"),
        BrokenPipeError(errno.EPIPE, "broken pipe"),
        TimeoutError("timed out"),
        socket.gaierror(socket.EAI_AGAIN, "temporary failure in name resolution"),
        OSError(errno.EHOSTUNREACH, "no route to host"),
        OSError(errno.ENETUNREACH, "network is unreachable"),
        OSError(errno.ETIMEDOUT, "connection timed out"),
        KafkaConnectionError("broker away"),
        TransientError("try later"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_network_failures_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        FileNotFoundError(errno.ENOENT, "No such file or directory", "/tmp/missing"),
        PermissionError(errno.EACCES, "Permission denied", "/etc/shadow"),
        IsADirectoryError(errno.EISDIR, "Is a directory", "/tmp"),
        OSError("an OSError with no errno at all"),
        ValueError("a bad event"),
        KeyError("unknown brand"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_failures_of_the_event_itself_are_poison(exc: BaseException) -> None:
    # Retrying these would fail the same way for ever and block the partition.
    assert not is_transient(exc)
