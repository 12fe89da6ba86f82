"""A Slack history read that can never succeed is told apart from one worth retrying (no IO)."""

from __future__ import annotations

from typing import ClassVar

import pytest
from slack_sdk.errors import SlackApiError

from socialdesk_notifier.senders.errors import LookupImpossible, LookupThrottled
from socialdesk_notifier.senders.slack import _unreadable


@pytest.mark.parametrize("error", ["missing_scope", "not_in_channel", "channel_not_found", "invalid_auth"])
def test_errors_no_retry_fixes_make_the_lookup_impossible(error: str) -> None:
    exc = SlackApiError("refused", {"ok": False, "error": error})
    assert isinstance(_unreadable(exc), LookupImpossible)


@pytest.mark.parametrize("error", ["internal_error", "fatal_error"])
def test_passing_errors_stay_retryable(error: str) -> None:
    exc = SlackApiError("refused", {"ok": False, "error": error})
    assert _unreadable(exc) is exc


def test_a_rate_limited_history_read_waits_retry_after_not_a_back_off() -> None:
    class _Response(dict[str, object]):
        headers: ClassVar[dict[str, str]] = {"retry-after": "7"}

    exc = SlackApiError("refused", _Response(ok=False, error="ratelimited"))
    throttled = _unreadable(exc)
    assert isinstance(throttled, LookupThrottled)
    assert throttled.retry_after == 7.0
