"""A later read names who wrote a message that came without its author (decision 0204
addendum): the desk, through the assigner's real bootstrap on real PostgreSQL, shows that
person on the message and on its customer (``MessageAuthorIdentified``), edits nothing,
writes no history line, and gives the same state however often it is told."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import Author, MessageClassified, MessageReceived
from socialdesk_schemas.platforms import MessageAuthorIdentified, MessageEdited
from tests.integration.test_assigner import classified
from tests.integration.test_desk import page
from tests.integration.test_desk import received as the_desks_received
from tests.support import Booted, booted, envelope

pytestmark = pytest.mark.integration

DANA = Author(platform_user_id="5550001112223", display_name="Dana Ruiz")


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


def withheld(svc: Booted) -> MessageClassified:
    """A Facebook comment whose author Meta withheld, as the classifier reports it."""
    comment = f"880011_{uuid.uuid4().hex[:8]}"
    return classified(
        svc,
        platform="facebook",
        kind="comment",
        platform_message_id=comment,
        author_platform_user_id=f"unknown:{comment}",
    )


def received(svc: Booted, of: MessageClassified, text: str = "bus never came") -> MessageReceived:
    """ingest's record of it: the placeholder's id, no name or handle."""
    record = the_desks_received(svc, of, text)
    return record.model_copy(update={"author": Author(platform_user_id=of.author_platform_user_id)})


def named(svc: Booted, of: MessageClassified, author: Author, known_as: str) -> MessageAuthorIdentified:
    clock = svc.runtime.clock
    return MessageAuthorIdentified(
        **envelope(clock, of.ticket_id),
        message_id=of.message_id,
        brand=of.brand,
        platform=of.platform,
        platform_message_id=of.platform_message_id,
        author=author,
        customer_id=of.customer_id,
        customer_platform_user_id=known_as,
        identified_at=clock.now(),
    )


def shown(body: dict[str, Any]) -> tuple[Any, ...]:
    """What the page says of the message and its customer."""
    (message,) = [c for c in body["conversation"] if c["type"] == "message"]
    (channel,) = body["customer"]["channels"]
    return (
        message["author"],
        message["text"],
        message["edited"],
        channel["platform_user_id"],
        channel["handle"],
        channel["display_name"],
    )


async def test_an_author_named_before_the_ticket_is_routed_is_on_the_page_once_it_is(svc: Booted) -> None:
    """Classification travels on another topic: the read may name the author before the desk
    has the ticket. The message and its customer came first (ingest's topic, the ticket's
    partition), so the author is theirs and the page shows it once the ticket is routed."""
    message = withheld(svc)
    assert (await svc.feed(received(svc, message)))["processed"] == 1
    assert (await svc.feed(named(svc, message, DANA, DANA.platform_user_id)))["processed"] == 1
    assert (await svc.feed(message))["processed"] == 1
    body = await page(svc, message.ticket_id)
    assert shown(body) == ("Dana Ruiz", "bus never came", False, DANA.platform_user_id, None, "Dana Ruiz")
    assert "MessageAuthorIdentified" not in {line["kind"] for line in body["history"]}


async def test_the_same_author_told_again_or_by_the_edit_before_changes_nothing(svc: Booted) -> None:
    """The read's ``MessageEdited`` (an ingest before ``MessageAuthorIdentified`` named the
    author there, with the words as they were) applied the same values; the event replayed,
    or told again by another event, leaves the page as it was."""
    message = withheld(svc)
    await svc.feed(received(svc, message), message)
    edit = MessageEdited(
        **envelope(svc.runtime.clock, message.ticket_id),
        message_id=message.message_id,
        brand=message.brand,
        platform=message.platform,
        platform_message_id=message.platform_message_id,
        text="bus never came",
        edited_at=svc.runtime.clock.now(),
        author=DANA,
        customer_id=message.customer_id,
    )
    told = named(svc, message, DANA, DANA.platform_user_id)
    assert (await svc.feed(edit, told))["processed"] == 2
    first = await page(svc, message.ticket_id)
    assert shown(first) == ("Dana Ruiz", "bus never came", False, DANA.platform_user_id, None, "Dana Ruiz")
    assert (await svc.feed(told))["duplicate"] == 1
    assert (await svc.feed(named(svc, message, DANA, DANA.platform_user_id)))["processed"] == 1
    again = await page(svc, message.ticket_id)
    assert (again["conversation"], again["customer"], again["history"]) == (
        first["conversation"],
        first["customer"],
        first["history"],
    )


async def test_a_username_alone_names_the_placeholder_by_its_handle_and_keeps_its_id(svc: Booted) -> None:
    """Instagram's ``mentioned_media`` gives a username and no id: ingest keeps the
    placeholder's id as the id it is known by (a username can change hands)."""
    message = withheld(svc)
    await svc.feed(received(svc, message), message)
    placeholder = message.author_platform_user_id
    by_name = Author(platform_user_id=placeholder, handle="maple_fan")
    await svc.feed(named(svc, message, by_name, placeholder))
    body = await page(svc, message.ticket_id)
    assert shown(body) == ("maple_fan", "bus never came", False, placeholder, "maple_fan", None)


async def test_a_later_read_with_neither_name_nor_handle_keeps_the_name_shown(svc: Booted) -> None:
    """A second read names the same person by id alone (the platform withheld the rest this
    time): the message keeps the name it showed, as its customer keeps handle and name."""
    message = withheld(svc)
    await svc.feed(received(svc, message), message)
    await svc.feed(named(svc, message, DANA, DANA.platform_user_id))
    bare = Author(platform_user_id=DANA.platform_user_id)
    assert (await svc.feed(named(svc, message, bare, DANA.platform_user_id)))["processed"] == 1
    body = await page(svc, message.ticket_id)
    assert shown(body) == ("Dana Ruiz", "bus never came", False, DANA.platform_user_id, None, "Dana Ruiz")
