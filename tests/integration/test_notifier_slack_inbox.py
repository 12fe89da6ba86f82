"""A reply typed in the platform's own inbox, told in the ticket's Slack thread as such
(decision 0305), through the notifier's real bootstrap against the Slack fake."""

from __future__ import annotations

import uuid

import pytest

from tests.fakes.slack import FakeSlack
from tests.integration.test_notifier_slack_support import (
    drain,
    escalated,
    lead_replied,
    notifier,
    opened,
    slack,
)
from tests.support import Booted

pytestmark = pytest.mark.integration
__all__ = ["notifier", "slack"]


async def test_an_answer_typed_in_the_facebook_inbox_reads_as_such_in_the_thread(
    notifier: Booted, slack: FakeSlack
) -> None:
    ticket = uuid.uuid4()
    await notifier.feed(*opened(notifier, ticket))
    await notifier.feed(escalated(notifier, ticket, "L3"))
    await drain(notifier, rounds=2)
    typed = lead_replied(notifier, ticket, first=True).model_copy(update={"agent_id": "inbox:facebook"})
    await notifier.feed(typed)
    await drain(notifier, rounds=4)
    (parent, *thread) = slack.messages("C0OBLEAD")
    said = [m["text"] for m in thread if m.get("thread_ts") == parent["ts"]]
    assert said == [":speech_balloon: Answered in the Facebook inbox, outside the desk"]
    assert ":speech_balloon: Answered" in slack.messages("C0OBLEAD")[0]["text"], (
        "the parent shows it answered"
    )
