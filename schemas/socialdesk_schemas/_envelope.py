"""The envelope every event carries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


def new_event_id() -> uuid.UUID:
    """A fresh random event id."""
    return uuid.uuid4()


def utc_now() -> datetime:
    """Wall-clock now in UTC. Only for edges (producers); domain logic takes an injected clock."""
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every event: a frozen, past-tense fact with its envelope.

    Subclasses set ``event_type`` as a ``Literal`` field with a default, and
    ``SCHEMA_VERSION``. Consumers ignore fields they do not know (``extra="ignore"``),
    so adding an optional field is backward compatible.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: uuid.UUID = Field(default_factory=new_event_id)
    event_type: str
    schema_version: int = 1
    occurred_at: AwareDatetime
    producer: str = Field(min_length=1, max_length=64)
    ticket_id: uuid.UUID
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def caused(
        self, event_cls: type[EventT], *, producer: str, occurred_at: datetime, **fields: Any
    ) -> EventT:
        """Build the next event of the same ticket, caused by this one.

        Usage::

            assigned = classified.caused(TicketAssigned, producer="assigner",
                                         occurred_at=clock.now(), agent_id="a1", ...)
        """
        return event_cls(
            producer=producer,
            occurred_at=occurred_at,
            ticket_id=fields.pop("ticket_id", self.ticket_id),
            correlation_id=self.correlation_id,
            causation_id=self.event_id,
            **fields,
        )


from typing import TypeVar  # noqa: E402  (after Event, which it bounds)

EventT = TypeVar("EventT", bound=Event)
