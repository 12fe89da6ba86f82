"""The platforms' webhooks on plain data: signatures, parsers, account routing, the plan.

``verify_meta`` / ``verify_x`` check a raw body before anything is parsed;
``parse_meta`` / ``parse_x`` turn one verified delivery into items (never raising for an
item's content); :func:`plan` resolves brands and sorts the items for the handler.
"""

from socialdesk_ingest.domain.platforms.accounts import (
    AccountIndex,
    meta_secret_envs,
    secrets_reader,
    x_secret_envs,
)
from socialdesk_ingest.domain.platforms.extract import (
    BrandFact,
    Plan,
    delivery_reported,
    fact_key,
    own_message_seen,
    plan,
    reason_label,
    recipient_ticket,
)
from socialdesk_ingest.domain.platforms.items import (
    CustomerMessage,
    DeliveryFact,
    Ignored,
    Item,
    MessageChanged,
    OwnMessage,
    Parsed,
    Skipped,
)
from socialdesk_ingest.domain.platforms.meta import parse_meta
from socialdesk_ingest.domain.platforms.signatures import (
    meta_signature,
    verify_meta,
    verify_x,
    x_crc_response,
    x_signature,
)
from socialdesk_ingest.domain.platforms.x import parse_x

__all__ = [
    "AccountIndex",
    "BrandFact",
    "CustomerMessage",
    "DeliveryFact",
    "Ignored",
    "Item",
    "MessageChanged",
    "OwnMessage",
    "Parsed",
    "Plan",
    "Skipped",
    "delivery_reported",
    "fact_key",
    "meta_secret_envs",
    "meta_signature",
    "own_message_seen",
    "parse_meta",
    "parse_x",
    "plan",
    "reason_label",
    "recipient_ticket",
    "secrets_reader",
    "verify_meta",
    "verify_x",
    "x_crc_response",
    "x_secret_envs",
    "x_signature",
]
