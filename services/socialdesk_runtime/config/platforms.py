"""The ``platforms`` section: how the platforms' webhooks reach ingest and how ingest
reads back from their APIs. Account ids and app / consumer secrets stay per brand under
``accounts`` (:mod:`.sections`); what is shared by every brand is here."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from socialdesk_runtime.config.types import ConfigModel, EnvName, Seconds

__all__ = ["PlatformsSettings"]

#: Meta's documented maximum webhook payload.
META_MAX_BODY_BYTES = 3 * 1024 * 1024


class PlatformsSettings(ConfigModel):
    """Webhook intake for Meta (Pages, Messenger, Instagram, WhatsApp) and X."""

    #: Env var holding the token typed into the Meta app's webhook settings ("Verify token").
    meta_verify_token_env: EnvName | None = "META_VERIFY_TOKEN"
    #: ``None`` means the real ``https://graph.facebook.com``; tests point it at a local fake.
    graph_base_url: HttpUrl | None = None
    graph_version: str = Field(default="v23.0", pattern=r"^v\d+\.\d+$")
    #: ``None`` means the real ``https://api.x.com``.
    x_base_url: HttpUrl | None = None
    meta_max_body_bytes: int = Field(default=META_MAX_BODY_BYTES, ge=1)
    x_max_body_bytes: int = Field(default=META_MAX_BODY_BYTES, ge=1)
    #: Raw deliveries are kept this long (audit, ``socialdesk replay``), then deleted.
    raw_retention_seconds: Seconds = 30 * 24 * 3600.0
    #: A linked customer's new message joins their open ticket on another channel when
    #: that ticket had a message within this window (seed 004: one customer, one ticket).
    link_window_seconds: Seconds = 24 * 3600.0
    #: How often each account's token and permissions are checked (channel health).
    health_check_seconds: Seconds = 900.0
    #: Reconciliation: how often recent conversations are polled, and how far back a
    #: message that never arrived by webhook is still backfilled.
    reconcile_seconds: Seconds = 300.0
    reconcile_lookback_seconds: Seconds = 3600.0
    #: Rule: customers of a brand with the same phone number (a WhatsApp number, or a phone
    #: a source gives at intake) are linked as one customer (``CustomerLinked``).
    link_same_phone: bool = True
