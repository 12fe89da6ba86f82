"""Which publishing errors are the record's fault (park it) and which are not (hold)."""

from __future__ import annotations

import errno

import pytest
from aiokafka.errors import (
    BrokerResponseError,
    ClusterAuthorizationFailedError,
    CorruptRecordException,
    InvalidTimestampError,
    InvalidTopicError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotEnoughReplicasError,
    NotLeaderForPartitionError,
    ProducerClosed,
    RecordListTooLargeError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
    UnknownError,
    UnknownTopicOrPartitionError,
    for_code,
)

from socialdesk_runtime.errors import is_transient
from socialdesk_runtime.outbox_refusals import is_refused_record


class _InvalidRecordError(BrokerResponseError):  # type: ignore[misc]  # aiokafka.errors is untyped
    """INVALID_RECORD as a later aiokafka may map it (0.14 has no class for it)."""

    errno = 87
    message = "INVALID_RECORD"


@pytest.mark.parametrize(
    "exc",
    [
        # What send() itself raises for a record over max_request_size.
        MessageSizeTooLargeError("The message is 1100123 bytes when serialized"),
        for_code(10)(),  # MESSAGE_TOO_LARGE from the broker
        for_code(2)(),  # CORRUPT_MESSAGE / INVALID_MESSAGE
        for_code(18)(),  # RECORD_LIST_TOO_LARGE
        _InvalidRecordError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_record_the_broker_refuses_for_what_it_is_is_a_refusal(exc: BaseException) -> None:
    assert is_refused_record(exc)
    assert not is_transient(exc), "a refusal must not be retried for ever as transient"


def test_the_broker_error_codes_map_to_the_classes_the_predicate_knows() -> None:
    assert for_code(10) is MessageSizeTooLargeError
    assert for_code(2) is CorruptRecordException
    assert for_code(18) is RecordListTooLargeError


@pytest.mark.parametrize(
    "exc",
    [
        # The broker or the network away: transient, the relay retries.
        KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 1)]"),
        KafkaTimeoutError(),
        RequestTimedOutError(),
        NotLeaderForPartitionError(),
        NotEnoughReplicasError(),
        ConnectionResetError(errno.ECONNRESET, "reset"),
        TimeoutError(),
        # Configuration: fixed outside, never by parking the record.
        TopicAuthorizationFailedError("ticket.messages"),
        ClusterAuthorizationFailedError(),
        UnknownTopicOrPartitionError(),
        InvalidTopicError(),
        ProducerClosed(),
        # Our clock off against the broker's timestamp limits: every row would be refused.
        InvalidTimestampError(),
        for_code(32)(),
        # What the relay cannot read: holding is the safe side.
        UnknownError(),
        for_code(87)(),  # INVALID_RECORD arrives as UnknownError in aiokafka 0.14
        KafkaError("Unexpected error during batch delivery"),
        ValueError("not a broker error at all"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_and_configuration_errors_keep_the_relay_holding(exc: BaseException) -> None:
    assert not is_refused_record(exc)
