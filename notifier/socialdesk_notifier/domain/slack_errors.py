"""What a Slack ``ok: false`` (or an HTTP error) means for a delivery (issue 11 item 3).

Three answers: permanent (no retry fixes it: the delivery fails at once, counted by
reason), throttled (Slack said "too fast": wait its ``Retry-After``, not a failed attempt)
or transient (Slack's own trouble: retry with back-off, until the delivery's age limit).
An error we do not know is treated as permanent: a person looks, nothing loops.

Usage::

    verdict = classify_slack_error("channel_not_found", status=200)  # "permanent"
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["PERMANENT", "TRANSIENT", "Verdict", "classify_slack_error"]

Verdict = Literal["permanent", "throttled", "transient"]

PERMANENT: Final = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "restricted_action",
        "invalid_arguments",
        "invalid_metadata_format",
        "thread_not_found",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
TRANSIENT: Final = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "unknown_error",
    }
)


def classify_slack_error(error: str, *, status: int) -> Verdict:
    if status == 429 or error == "ratelimited":
        return "throttled"
    if status >= 500 or error in TRANSIENT:
        return "transient"
    return "permanent"
