"""ingest's rules on plain data: normalisation, duplicates, threading, events, answers."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from socialdesk_ingest.domain import (
    Conversation,
    IncomingAuthor,
    IncomingMessage,
    Placement,
    StoredMessage,
    api_key_matches,
    clean_text,
    conversation_key,
    first_copies,
    is_idle,
    latest_profiles,
    message_received,
    new_conversations,
    outcomes,
    thread,
    thread_key,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
IDLE = 3600.0


def msg(mid: str = "m1", *, user: str = "u1", kind: Any = "dm", **over: Any) -> IncomingMessage:
    fields: dict[str, Any] = {
        "brand": "ourbus",
        "platform": "x",
        "kind": kind,
        "platform_message_id": mid,
        "author": IncomingAuthor(user),
        "text": "hi",
    }
    fields.update(over)
    return IncomingMessage(**fields)


def counter() -> Callable[[], uuid.UUID]:
    """Predictable ids: 1, 2, 3..."""
    it = (uuid.UUID(int=i) for i in itertools.count(1))
    return lambda: next(it)


# --- normalisation ------------------------------------------------------------------------


def test_clean_text_replaces_lone_surrogates_and_drops_control_characters() -> None:
    assert clean_text("a\ud83db\x00c\x07d\ne\tf") == "a\ufffdbcd\ne\tf"
    assert clean_text("🚌 ok") == "🚌 ok"


def test_an_incoming_message_is_normalised_on_construction() -> None:
    m = IncomingMessage(
        brand=" OurBus ",
        platform="x",
        kind="dm",
        platform_message_id="m\x001",
        author=IncomingAuthor("u\x00", handle="a\ud83d", display_name="Ana\x07", followers=3),
        text="late \ud83d and\x00 rude",
        in_reply_to="p\x001",
    )
    assert m.brand == "ourbus"
    assert m.text == "late \ufffd and rude"
    assert (m.platform_message_id, m.in_reply_to) == ("m1", "p1")
    assert m.author == IncomingAuthor("u", handle="a\ufffd", display_name="Ana", followers=3)
    assert m.key == ("ourbus", "x", "m1")
    assert m.customer_key == ("ourbus", "x", "u")


def test_thread_key_separates_private_and_public_conversations_per_author() -> None:
    dm, comment, mention = msg(kind="dm"), msg(kind="comment"), msg(kind="mention")
    assert thread_key(dm) != thread_key(comment)
    assert thread_key(comment) == thread_key(mention)
    assert thread_key(msg(kind="comment", user="u2")) != thread_key(comment)
    assert conversation_key(dm) == ("ourbus", "x", thread_key(dm))


def test_idle_limit_is_exclusive() -> None:
    assert not is_idle(T0, T0 + timedelta(hours=24), 24 * 3600)
    assert is_idle(T0, T0 + timedelta(hours=24, seconds=1), 24 * 3600)


def test_api_key_matches_any_configured_key_and_never_an_empty_one() -> None:
    keys = ["key-one", "key-two"]
    assert api_key_matches("key-two", keys)
    assert not api_key_matches("key", keys)
    assert not api_key_matches("", keys)
    assert not api_key_matches("", [""])
    assert not api_key_matches("key-one", [])


# --- duplicates ---------------------------------------------------------------------------


def test_first_copies_skip_stored_messages_and_repeats_within_the_batch() -> None:
    batch = [msg("a"), msg("b"), msg("a"), msg("c"), msg("b")]
    assert first_copies(batch, {("ourbus", "x", "c")}) == [0, 1]
    assert first_copies(batch, set()) == [0, 1, 3]
    assert first_copies([msg("a", platform="instagram"), msg("a")], set()) == [0, 1]


def test_outcomes_answer_repeats_with_the_first_copys_ids() -> None:
    stored = StoredMessage(uuid.uuid4(), uuid.uuid4())
    placed = Placement(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), opens_ticket=True)
    answers = outcomes(
        [msg("old"), msg("new"), msg("new")],
        {("ourbus", "x", "old"): stored},
        {("ourbus", "x", "new"): placed},
    )
    assert [(a.message_id, a.ticket_id, a.duplicate, a.opens_ticket) for a in answers] == [
        (stored.message_id, stored.ticket_id, True, False),
        (placed.message_id, placed.ticket_id, False, True),
        (placed.message_id, placed.ticket_id, True, False),
    ]


# --- threading ----------------------------------------------------------------------------


def test_latest_profile_wins_within_a_batch() -> None:
    profiles = latest_profiles(
        [
            msg("a", author=IncomingAuthor("u1", followers=1)),
            msg("b", author=IncomingAuthor("u1", followers=2)),
        ]
    )
    assert profiles == {("ourbus", "x", "u1"): IncomingAuthor("u1", followers=2)}


def _customers(*batch: IncomingMessage) -> dict[tuple[str, str, str], uuid.UUID]:
    return {m.customer_key: uuid.uuid5(uuid.NAMESPACE_OID, m.author.platform_user_id) for m in batch}


def test_a_new_thread_opens_one_conversation_and_ticket_for_all_its_messages() -> None:
    batch = [msg("a"), msg("b"), msg("c", user="u2")]
    customers = _customers(*batch)
    new = new_conversations(batch, customers, now=T0, new_id=counter())
    assert len(new) == 2
    result = thread(batch, new, set(new), customers, now=T0, idle_seconds=IDLE, new_id=counter())
    a, b, c = result.placements
    assert (a.opens_ticket, b.opens_ticket, c.opens_ticket) == (True, False, True)
    assert a.ticket_id == b.ticket_id != c.ticket_id
    assert a.conversation_id == b.conversation_id == new[conversation_key(batch[0])].id
    assert a.customer_id == customers[batch[0].customer_key]
    assert len({a.message_id, b.message_id, c.message_id}) == 3
    assert result.changed == [], "a conversation created by this batch is already saved as it is"


def _existing(m: IncomingMessage, last: datetime) -> Conversation:
    return Conversation(
        key=conversation_key(m),
        id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        ticket_id=uuid.uuid4(),
        ticket_opened_at=T0,
        last_message_at=last,
    )


def test_a_message_joins_its_conversations_ticket_until_the_conversation_goes_idle() -> None:
    m = msg("a")
    now = T0 + timedelta(seconds=IDLE)
    conv = _existing(m, last=T0)
    result = thread([m], {conversation_key(m): conv}, set(), _customers(m), now=now, idle_seconds=IDLE)
    (p,) = result.placements
    assert (p.ticket_id, p.opens_ticket, p.conversation_id) == (conv.ticket_id, False, conv.id)
    (saved,) = result.changed
    assert saved.last_message_at == now and saved.ticket_id == conv.ticket_id

    later = now + timedelta(seconds=IDLE + 1)
    result = thread(
        [m, msg("b")], {conversation_key(m): saved}, set(), _customers(m), now=later, idle_seconds=IDLE
    )
    first, second = result.placements
    assert first.opens_ticket and first.ticket_id != conv.ticket_id
    assert not second.opens_ticket and second.ticket_id == first.ticket_id
    (reopened,) = result.changed
    assert (reopened.id, reopened.ticket_id, reopened.ticket_opened_at) == (conv.id, first.ticket_id, later)
    assert reopened.last_message_at == later


def test_a_conversation_saved_at_this_instant_is_joined_not_rewritten() -> None:
    m = msg("a")
    # Not in ``opened``: e.g. another transaction created it just before this batch.
    conv = _existing(m, last=T0)
    result = thread([m], {conversation_key(m): conv}, set(), _customers(m), now=T0, idle_seconds=IDLE)
    assert result.changed == [] and not result.placements[0].opens_ticket


@pytest.mark.parametrize("opens", [True, False])
def test_message_received_carries_the_message_and_its_placement(opens: bool) -> None:
    m = msg(
        "a",
        author=IncomingAuthor("u1", handle="ana", display_name="Ana", followers=120),
        sent_at=T0 - timedelta(seconds=5),
        in_reply_to="post-1",
        text="Is there wifi?",
    )
    p = Placement(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), opens_ticket=opens)
    event = message_received(m, p, now=T0)
    assert (event.ticket_id, event.message_id, event.conversation_id, event.customer_id) == (
        p.ticket_id,
        p.message_id,
        p.conversation_id,
        p.customer_id,
    )
    assert event.correlation_id == p.message_id and event.producer == "ingest"
    assert event.opens_ticket is opens
    assert (event.occurred_at, event.received_at, event.sent_at) == (T0, T0, m.sent_at)
    assert (event.brand, event.platform, event.kind, event.platform_message_id) == ("ourbus", "x", "dm", "a")
    assert event.author.followers == 120 and event.author.handle == "ana"
    assert (event.text, event.in_reply_to) == ("Is there wifi?", "post-1")


def test_a_message_that_would_open_a_ticket_joins_a_linked_customers_open_ticket() -> None:
    from socialdesk_ingest.domain import (
        IncomingAuthor,
        IncomingMessage,
        LinkedTicket,
        new_conversations,
        thread,
    )

    msg = IncomingMessage(
        brand="ourbus",
        platform="whatsapp",
        kind="dm",
        platform_message_id="w1",
        author=IncomingAuthor("8190"),
        text="booking 5512",
    )
    customer = uuid.uuid4()
    ids = {msg.customer_key: customer}
    convs = new_conversations([msg], ids, now=T0)
    linked_ticket = uuid.uuid4()
    placed = thread(
        [msg],
        convs,
        set(convs),
        ids,
        now=T0,
        idle_seconds=60,
        linked={customer: LinkedTicket(linked_ticket, T0)},
    )
    (p,) = placed.placements
    assert p.ticket_id == linked_ticket and not p.opens_ticket
    alone = thread([msg], convs, set(convs), ids, now=T0, idle_seconds=60)
    assert alone.placements[0].opens_ticket and alone.placements[0].ticket_id != linked_ticket
