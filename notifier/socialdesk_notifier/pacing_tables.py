"""The notifier's pacing table (decision 0403, migration 0003_pacing): one row per lane
(a Slack channel, the workspace's ``chat.update`` budget, a platform's sending account),
shared by every notifier replica on the database. Soft state: losing it costs at most a
throttle, which is honoured."""

from sqlalchemy import Column, Double, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB

from socialdesk_notifier.tables import metadata

__all__ = ["pacing_lanes"]

#: Times are seconds since the epoch on the database's clock: one clock for every replica.
pacing_lanes = Table(
    "pacing_lanes",
    metadata,
    Column("lane", String(300), primary_key=True),
    # The earliest start of the lane's next send.
    Column("next_at", Double, nullable=False),
    # NULL: the ceiling (no throttle cut it, or it recovered).
    Column("rate", Double),
    Column("cut_at", Double),
    # Hashed recipient -> its next slot, only the slots still ahead (an account's lane).
    Column("recipients", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # The last request to reserve: when it asked, and the slot it was offered.
    Column("asked_at", Double, nullable=False),
    Column("offered_at", Double, nullable=False),
)
