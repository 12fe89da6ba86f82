"""The notifier's outward port: one interface, one adapter per channel.

Every adapter answers two questions: "send this delivery" and "did this delivery's
idempotency key already go out?", so that a delivery abandoned by a crash after the send
is found rather than sent twice. A new channel (a platform's send API) is one more
adapter registered in :class:`Senders` by the bootstrap.

Usage::

    from socialdesk_notifier.senders.local import LocalSink
    from socialdesk_notifier.senders.slack import SlackSender

    senders = Senders({"slack": SlackSender(token=token, base_url=None)}, fallback=LocalSink(path))
    result = await senders.for_channel(delivery.channel).send(delivery)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from socialdesk_notifier.domain import Delivery, SendResult
from socialdesk_schemas import Channel

__all__ = ["Sender", "Senders"]


class Sender(Protocol):
    """An adapter to one outside channel."""

    @property
    def channel(self) -> Channel:
        """The channel named in ``NotificationDelivered``/``NotificationFailed``."""
        ...

    async def send(self, delivery: Delivery) -> SendResult:
        """One attempt; errors are answered, not raised."""
        ...

    async def find_sent(self, delivery: Delivery, *, since: datetime) -> str | None:
        """The external reference of an earlier send of this delivery since ``since``, if any.

        Raises when the channel cannot be asked: the worker then retries, never sends blind.
        """
        ...


class Senders:
    """Which adapter delivers each channel; channels without one go to the fallback."""

    def __init__(self, by_channel: Mapping[str, Sender], *, fallback: Sender) -> None:
        self._by_channel = dict(by_channel)
        self._fallback = fallback

    def for_channel(self, channel: str) -> Sender:
        return self._by_channel.get(channel, self._fallback)
