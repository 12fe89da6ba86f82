"""The booted assigner every desk browser test drives (a module with other needs, such as a
hostile configuration or a faster poll, defines its own ``svc``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from tests.support import Booted, booted


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service
