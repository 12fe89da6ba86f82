"""Issue 14 through the classifier's real bootstrap on real PostgreSQL: posts about one
incident in different languages share a group, and the events carry its summary."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from socialdesk_classifier.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import MessageClassified, MessageReceived
from tests.support import Booted, booted, config_for_tests, envelope

pytestmark = pytest.mark.integration


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=config_for_tests()) as service:
        yield service


def _message(svc: Booted, text: str, *, brand: str = "rally") -> MessageReceived:
    clock = svc.runtime.clock
    return MessageReceived(
        **envelope(clock),
        message_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        brand=brand,
        platform="x",
        kind="mention",
        platform_message_id=uuid.uuid4().hex,
        author={"platform_user_id": uuid.uuid4().hex[:8], "followers": 40},
        text=text,
        received_at=clock.now(),
        sent_at=clock.now(),
    )


async def test_one_incident_across_languages_carries_its_summary(svc: Booted) -> None:
    texts = [
        "@RallyBus we're at the Allentown pickup and no bus. Pickup was 6:00",
        "Estamos en el punto de recogida de Allentown y el bus del rally nunca llegó",
        "@RallyBus 阿伦敦上车点的大巴一直没来",
        "is the pickup in Allentown still the Walmart lot for Saturday?",
    ]
    await svc.feed(*[_message(svc, t) for t in texts])
    events = [e for e in await svc.emitted() if isinstance(e, MessageClassified)]
    assert len(events) == 4
    incident = events[:3]
    group = incident[0].group_id
    assert group is not None
    assert all(e.group_id == group for e in incident)
    last = incident[-1]
    assert last.group_size == 3 and last.group_place == "Allentown"
    assert last.group_type == "bus did not come"
    assert last.group_first_seen is not None and last.group_last_seen is not None
    assert last.group_first_seen <= last.group_last_seen
    assert incident[0].priority == "critical"  # stranded at the pickup now
