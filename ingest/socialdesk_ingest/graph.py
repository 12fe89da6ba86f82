"""The Graph API reads of ingest (enrichment of id-only webhooks), over httpx.

Usage::

    reader = GraphReader(base_url="https://graph.facebook.com", version="v23.0", token_for=...)
    found = await reader.enrich(msg)   # None if not possible; raises GraphUnavailable on failure
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from socialdesk_ingest.domain import IncomingMessage
from socialdesk_ingest.domain.platforms.enrichment import Enrichment, graph_read, parse_graph_answer

__all__ = ["GraphReader", "GraphUnavailable"]

DEFAULT_GRAPH_URL = "https://graph.facebook.com"


class GraphUnavailable(Exception):
    """The read failed (network, throttling, an error answer): try again later."""


class GraphReader:
    def __init__(
        self,
        *,
        base_url: str | None,
        version: str,
        token_for: Callable[[str, str], str | None],
        ig_account_for: Callable[[str], str | None],
        timeout: float = 3.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """``token_for(brand, platform)`` reads the access token from the environment at call
        time; ``ig_account_for(brand)`` names the brand's Instagram account id."""
        self._base = (base_url or DEFAULT_GRAPH_URL).rstrip("/")
        self._version = version
        self._token_for = token_for
        self._ig_account_for = ig_account_for
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def enrich(self, msg: IncomingMessage) -> Enrichment | None:
        read = graph_read(msg, ig_account=self._ig_account_for(msg.brand))
        if read is None:
            return None
        token = self._token_for(msg.brand, msg.platform)
        if token is None:
            raise GraphUnavailable(f"no access token configured for {msg.brand} {msg.platform}")
        try:
            response = await self._client.get(
                f"{self._base}/{self._version}/{read.object_id}",
                params={"fields": read.fields},
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            raise GraphUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise GraphUnavailable(f"HTTP {response.status_code}: {response.text[:300]}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise GraphUnavailable("answer is not JSON") from exc
        return parse_graph_answer(read, answer)

    async def aclose(self) -> None:
        await self._client.aclose()
