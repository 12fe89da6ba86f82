"""What a platform's refusal means: wait and retry (throttled), try again (transient), or
give up with a reason (permanent). api-notes §1.6 (Graph) and §1.7 (X).

Usage::

    verdict = graph_verdict(http_status=400, code=613, subcode=None)   # Verdict("throttled", ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["GRAPH_THROTTLE_CODES", "Verdict", "graph_verdict", "x_verdict"]

Kind = Literal["throttled", "transient", "permanent"]
#: Throttled for the whole sending account (app, user, page, usage family, WhatsApp throughput).
GRAPH_THROTTLE_CODES: Final = frozenset(
    {4, 17, 32, 341, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80007, 80008, 130429, 131057}
)
#: Throttled for one recipient: WhatsApp's (business, consumer) pair rate limit.
GRAPH_PAIR_THROTTLE_CODES: Final = frozenset({131056})
_GRAPH_TRANSIENT: Final = frozenset({1, 2})
# (code, subcode) pairs that mean "outside the messaging window" (api-notes §5: 10/2018278, 551/1545041).
_WINDOW_PAIRS: Final = frozenset({(10, 2018278), (551, 1545041)})


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: Kind
    #: For a permanent refusal, the ``DeliveryFailed.reason``; else a short label.
    reason: str
    #: Throttling of one recipient only (pace that pair, not the account).
    per_recipient: bool = False


def graph_verdict(*, http_status: int, code: int | None, subcode: int | None) -> Verdict:
    """A Graph error envelope's meaning for a send."""
    if code in GRAPH_THROTTLE_CODES:
        return Verdict("throttled", "throttled")
    if code in GRAPH_PAIR_THROTTLE_CODES:
        return Verdict("throttled", "throttled", per_recipient=True)
    if http_status == 429:
        return Verdict("throttled", "throttled")
    if code in _GRAPH_TRANSIENT or http_status >= 500 or code is None:
        return Verdict("transient", "platform_unavailable")
    if (code, subcode) in _WINDOW_PAIRS or code == 131047:
        return Verdict("permanent", "window_closed")
    if code == 190 or code == 102:
        return Verdict("permanent", "token_expired")
    if code == 10 or 200 <= code <= 299:
        return Verdict("permanent", "permission")
    if code in {10900, 10903}:
        return Verdict("permanent", "private_reply_not_allowed")
    if code in {551, 131026, 131030, 131051}:
        return Verdict("permanent", "invalid_recipient")
    if code in {368, 131031}:
        return Verdict("permanent", "policy_blocked")
    if code == 100:
        return Verdict("permanent", "invalid_request")
    return Verdict("permanent", "platform_error")


def x_verdict(*, http_status: int, problem_type: str | None, detail: str = "") -> Verdict:
    """An X API v2 answer's meaning for a send: go by status first (api-notes §1.7)."""
    kind = (problem_type or "").rsplit("/", 1)[-1]
    if http_status == 429 or kind == "usage-capped":
        return Verdict("throttled", "throttled")
    if http_status >= 500:
        return Verdict("transient", "platform_unavailable")
    if http_status == 401:
        return Verdict("permanent", "token_expired")
    if http_status == 403:
        if "duplicate" in detail.lower():
            return Verdict("permanent", "duplicate_content")
        return Verdict("permanent", "permission")
    if http_status == 404 or kind == "resource-not-found":
        return Verdict("permanent", "invalid_recipient")
    return Verdict("permanent", "invalid_request")
