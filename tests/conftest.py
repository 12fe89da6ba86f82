"""Session fixtures: one embedded Tansu broker and one embedded PostgreSQL per test run.

Starting them costs about a second, so they are session-scoped; tests stay independent
by using random ids, their own consumer groups and a fresh database each
(:func:`fresh_db`). PostgreSQL runs non-durable here (``fsync=off``): a test run never
needs to survive a power cut.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres


@pytest.fixture(scope="session")
def kafka() -> Iterator[EmbeddedKafka]:
    """A running Tansu broker with every topic of the registry created."""
    log_dir = Path(tempfile.mkdtemp(prefix="socialdesk-test-kafka-"))
    broker = EmbeddedKafka(log_path=log_dir / "tansu.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    """A running, non-durable PostgreSQL server.

    Its data lives in a fresh directory directly under the system temp dir rather than
    pytest's ``tmp_path_factory``: when we run as root the server runs as a system user
    that must traverse every parent, and pytest resets its own base dir to 0700.
    """
    root = Path(tempfile.mkdtemp(prefix="socialdesk-test-pg-"))
    server = EmbeddedPostgres(root / "data", durable=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fresh_db(postgres: EmbeddedPostgres) -> Iterator[str]:
    """A new, empty database for one test; yields its ``postgresql+asyncpg://`` URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    postgres.create_database(name)
    yield postgres.url(name)
    # FORCE drops it even if the test leaked a connection; failing to tidy is not a failure.
    with contextlib.suppress(RuntimeError):
        postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
