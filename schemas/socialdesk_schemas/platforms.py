"""Platform facts ingest publishes beyond MessageReceived (issue 8): edits and deletions of
customer messages, our own messages seen coming back (echoes of our sends, replies a
person typed in a platform's own inbox) and delivery receipts and statuses.

Written by ingest only. Add an event here as a frozen model with an explicit
``event_type``, then add it to the tuple of the topic that carries it; the registry
(:mod:`socialdesk_schemas.topics`) and the codec pick it up from there.

All of them travel on ``ticket.messages`` keyed by the ticket of the conversation they
belong to, so a ticket's messages, edits and receipts stay in order for every consumer;
customer links are keyed by the profile id.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from socialdesk_schemas._envelope import Event
from socialdesk_schemas._events import Author, Kind, Platform


class MessageEdited(Event):
    """A customer edited a message already received; the desk shows the new text.

    Also published when a later read of the platform completes the words of a message that
    arrived without them or without its author (an Instagram mention, a comment whose
    ``from`` Meta withheld), and only when the words changed. When that read also named the
    author, ``author`` says who wrote it and ``customer_id`` is the message's customer, now
    known as that person (as ``MessageAuthorIdentified``, published beside it, says); both
    are absent on an ordinary edit.
    """

    event_type: Literal["MessageEdited"] = "MessageEdited"
    message_id: uuid.UUID
    brand: str
    platform: Platform
    platform_message_id: str
    text: str
    edited_at: AwareDatetime
    author: Author | None = None
    customer_id: uuid.UUID | None = None


class MessageAuthorIdentified(Event):
    """A later read of the platform named who wrote a message that arrived without its
    author (a comment whose ``from`` Meta withheld, an Instagram mention).

    The message shows ``author``. Its customer, ``customer_id`` (a placeholder until now),
    takes the author's handle and name and is known by ``customer_platform_user_id`` from
    now on: the author's id when the customer became that person; its own placeholder id
    when a customer with the author's id already existed (the two are linked,
    ``CustomerLinked``) or when the read gave a username only (a username can change hands:
    it makes no one a known person, and ``author.platform_user_id`` is the placeholder's).
    The words the read completed, if any, are a ``MessageEdited`` published just before.
    Added after ``MessageEdited.author`` (still set when the words changed): a consumer that
    does not know this type ignores it.
    """

    event_type: Literal["MessageAuthorIdentified"] = "MessageAuthorIdentified"
    message_id: uuid.UUID
    brand: str
    platform: Platform
    platform_message_id: str
    author: Author
    customer_id: uuid.UUID
    customer_platform_user_id: str
    identified_at: AwareDatetime


class MessageDeleted(Event):
    """A customer deleted (or the platform removed) a message already received."""

    event_type: Literal["MessageDeleted"] = "MessageDeleted"
    message_id: uuid.UUID
    brand: str
    platform: Platform
    platform_message_id: str
    deleted_at: AwareDatetime


class OwnMessageSeen(Event):
    """A message from one of our accounts came back through a webhook.

    Either the echo of a reply socialdesk sent (``delivery_key`` set when the platform
    echoes what we attached, else matched by ``platform_message_id``), or a reply a person
    typed in the platform's own inbox (``typed_in_platform_inbox``), which the desk
    records as an agent reply. Never a customer message, never a ticket.
    """

    event_type: Literal["OwnMessageSeen"] = "OwnMessageSeen"
    brand: str
    platform: Platform
    kind: Kind
    platform_message_id: str
    recipient_platform_user_id: str | None = None
    text: str = ""
    sent_at: AwareDatetime | None = None
    delivery_key: str | None = None
    typed_in_platform_inbox: bool = False


class PlatformDeliveryReported(Event):
    """A platform reported the fate of messages we sent: sent, delivered, read or failed.

    ``platform_message_ids`` names them; a Messenger/Instagram receipt may instead give a
    ``watermark``: everything we sent to that recipient before it is covered.
    """

    event_type: Literal["PlatformDeliveryReported"] = "PlatformDeliveryReported"
    brand: str
    platform: Platform
    status: Literal["sent", "delivered", "read", "failed", "played", "deleted"]
    platform_message_ids: list[str] = Field(default_factory=list)
    watermark: AwareDatetime | None = None
    recipient_platform_user_id: str | None = None
    reported_at: AwareDatetime | None = None
    error_code: int | None = None
    error_title: str | None = None
    delivery_key: str | None = None


class CustomerLinked(Event):
    """Identities on several channels were linked as one customer (one profile).

    Keyed (``ticket_id``) by the profile id, so a profile's links and unlinks stay in
    order. A linked customer's new message joins their open ticket whatever the channel.
    """

    event_type: Literal["CustomerLinked"] = "CustomerLinked"
    profile_id: uuid.UUID
    customer_ids: list[uuid.UUID] = Field(min_length=1)
    """Every customer of the profile after the link."""
    linked_by: str
    """The agent who linked them, or ``rule:<name>`` for a configured rule."""
    reason: str | None = None


class CustomerUnlinked(Event):
    """A customer was taken out of a profile (a wrong link undone)."""

    event_type: Literal["CustomerUnlinked"] = "CustomerUnlinked"
    profile_id: uuid.UUID
    customer_id: uuid.UUID
    unlinked_by: str


class ChannelHealthChanged(Event):
    """A brand's channel became unable (or able again) to receive or send messages.

    From a periodic check of each configured account (and errors seen while reading):
    an expired token or a missing permission stops messages before any is lost, so it is
    announced (the notifier warns the brand in Slack) as soon as it is seen. Keyed by a
    stable id of the channel, ``uuid5(brand/platform/account)``, so its changes stay in order.
    """

    event_type: Literal["ChannelHealthChanged"] = "ChannelHealthChanged"
    brand: str
    platform: Platform
    account_id: str
    healthy: bool
    problem: Literal["token_expired", "permission_missing", "token_missing"] | None = None
    error_code: int | None = None
    detail: str | None = None


MESSAGES_TOPIC_EVENTS: tuple[type[Event], ...] = (
    MessageEdited,
    MessageAuthorIdentified,
    MessageDeleted,
    OwnMessageSeen,
    PlatformDeliveryReported,
    CustomerLinked,
    CustomerUnlinked,
    ChannelHealthChanged,
)

__all__ = [
    "MESSAGES_TOPIC_EVENTS",
    "ChannelHealthChanged",
    "CustomerLinked",
    "CustomerUnlinked",
    "MessageAuthorIdentified",
    "MessageDeleted",
    "MessageEdited",
    "OwnMessageSeen",
    "PlatformDeliveryReported",
]
