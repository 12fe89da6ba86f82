"""What a platform's refusal means (no IO): throttled, transient or permanent with a reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from socialdesk_notifier.domain.platform_errors import graph_verdict, x_verdict
from socialdesk_notifier.domain.receipts import advances, apply_receipt, reply_id_of_key
from socialdesk_schemas.outbound import DeliveryFailed, ReplyStatusChanged
from socialdesk_schemas.platforms import PlatformDeliveryReported

NOW = datetime(2026, 1, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001, 80006, 80008, 130429])
def test_graph_throttling_codes_back_off_for_the_account(code: int) -> None:
    verdict = graph_verdict(http_status=400, code=code, subcode=None)
    assert (verdict.kind, verdict.per_recipient) == ("throttled", False)


def test_whatsapp_pair_limit_paces_only_that_recipient() -> None:
    assert graph_verdict(http_status=400, code=131056, subcode=None).per_recipient


@pytest.mark.parametrize(
    ("code", "subcode", "reason"),
    [
        (190, None, "token_expired"),
        (10, None, "permission"),
        (200, None, "permission"),
        (299, None, "permission"),
        (10, 2018278, "window_closed"),
        (131047, None, "window_closed"),
        (551, None, "invalid_recipient"),
        (100, None, "invalid_request"),
        (10900, None, "private_reply_not_allowed"),
    ],
)
def test_graph_permanent_errors_keep_a_reason(code: int, subcode: int | None, reason: str) -> None:
    verdict = graph_verdict(http_status=400, code=code, subcode=subcode)
    assert (verdict.kind, verdict.reason) == ("permanent", reason)


def test_graph_server_errors_are_transient() -> None:
    assert graph_verdict(http_status=503, code=2, subcode=None).kind == "transient"
    assert graph_verdict(http_status=500, code=None, subcode=None).kind == "transient"


def test_x_goes_by_status() -> None:
    assert x_verdict(http_status=429, problem_type=None).kind == "throttled"
    assert x_verdict(http_status=503, problem_type=None).kind == "transient"
    assert x_verdict(http_status=401, problem_type=None).reason == "token_expired"
    assert x_verdict(http_status=403, problem_type="x/client-forbidden").reason == "permission"
    assert (
        x_verdict(http_status=403, problem_type=None, detail="duplicate content").reason
        == "duplicate_content"
    )
    assert x_verdict(http_status=400, problem_type="x/invalid-request").kind == "permanent"


def test_statuses_only_move_forward() -> None:
    assert advances("sent", "delivered") and advances("delivered", "read") and advances("sent", "read")
    assert not advances("read", "delivered") and not advances("read", "read")
    assert advances("read", "failed") and not advances("failed", "read")
    assert not advances("sent", "played")


def test_keys_name_their_reply() -> None:
    reply = uuid.uuid4()
    assert reply_id_of_key(f"sd:{reply}") == reply
    assert reply_id_of_key(f"sd:{reply}#2") == reply
    assert reply_id_of_key("case:4711") is None
    assert reply_id_of_key(None) is None


def _part(reply: uuid.UUID, mid: str, status: str = "sent") -> dict[str, object]:
    return {
        "platform_message_id": mid,
        "reply_id": reply,
        "ticket_id": uuid.uuid4(),
        "correlation_id": uuid.uuid4(),
        "brand": "ourbus",
        "status": status,
        "sent_at": NOW,
    }


def _report(status: str, **over: object) -> PlatformDeliveryReported:
    fields = {
        "producer": "ingest",
        "occurred_at": NOW,
        "ticket_id": uuid.uuid4(),
        "correlation_id": uuid.uuid4(),
    }
    return PlatformDeliveryReported.model_validate(
        fields | {"brand": "ourbus", "platform": "whatsapp", "status": status} | over
    )


def test_a_receipt_tells_each_reply_once_however_many_parts() -> None:
    reply = uuid.uuid4()
    changes = apply_receipt(_report("read"), [_part(reply, "m1"), _part(reply, "m2")], now=NOW)
    assert changes.updates == [("m1", "read"), ("m2", "read")]
    (event,) = changes.events
    assert isinstance(event, ReplyStatusChanged)
    assert (event.reply_id, event.status) == (reply, "read")
    assert apply_receipt(_report("delivered"), [_part(reply, "m1", "read")], now=NOW).events == []


def test_a_whatsapp_failed_status_fails_its_reply_with_the_code() -> None:
    reply = uuid.uuid4()
    changes = apply_receipt(
        _report("failed", error_code=131047, error_title="Window closed"), [_part(reply, "w1")], now=NOW
    )
    status, failed = changes.events
    assert isinstance(status, ReplyStatusChanged) and status.status == "failed"
    assert isinstance(failed, DeliveryFailed)
    assert (failed.reason, failed.platform_error_code) == ("window_closed", 131047)
