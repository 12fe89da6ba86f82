"""Helpers of the shared runtime's integration tests (inbox, outbox relay, dead letters)."""

from __future__ import annotations

import pytest

#: For tests that hold database connections by hand (an outbox relay driven without run()):
#: a connection left checked out is collected as garbage with an SAWarning, which these
#: marks turn into a failure of the test (pytest reports it as an unraisable exception).
CONNECTIONS_RETURNED = (
    pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning"),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
)
