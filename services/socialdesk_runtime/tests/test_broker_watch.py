"""The relay's ledger of acknowledged offsets: when does it prove the broker lost data?"""

from __future__ import annotations

from socialdesk_runtime.broker_watch import AckLedger


def test_offsets_that_move_forward_are_recorded_and_marked_for_saving() -> None:
    ledger = AckLedger()
    assert ledger.acknowledged("ticket.messages", 0, 0, "c1")
    assert ledger.acknowledged("ticket.messages", 0, 7, "c1")
    assert ledger.acked == {("ticket.messages", 0): 7}
    assert ledger.changed == {("ticket.messages", 0)}


def test_an_ack_at_or_below_a_previous_one_proves_a_loss() -> None:
    ledger = AckLedger({("ticket.messages", 2): 41}, {("ticket.messages", 2): "c1"})
    assert not ledger.acknowledged("ticket.messages", 2, 41, "c1")
    assert not ledger.acknowledged("ticket.messages", 2, 0, "c1")
    assert ledger.acknowledged("ticket.messages", 3, 0, "c1"), "another partition is unaffected"


def test_another_cluster_id_loses_every_topic_acknowledged_under_the_old_one() -> None:
    ledger = AckLedger(
        {("ticket.messages", 0): 5, ("deadletter.ingest", 0): 1},
        {("ticket.messages", 0): "old", ("deadletter.ingest", 0): "old"},
    )
    assert ledger.lost_topics(cluster_id="old") == set()
    assert ledger.lost_topics(cluster_id="new") == {"ticket.messages", "deadletter.ingest"}


def test_a_topic_gone_from_the_broker_is_lost_and_an_unused_one_is_not() -> None:
    ledger = AckLedger({("ticket.messages", 0): 5}, {("ticket.messages", 0): "c"})
    assert ledger.lost_topics(cluster_id="c", existing=["sla.events"]) == {"ticket.messages"}
    assert ledger.lost_topics(cluster_id="c", existing=["ticket.messages"]) == set()


def test_forgetting_a_lost_topic_starts_it_afresh() -> None:
    ledger = AckLedger({("ticket.messages", 0): 5}, {("ticket.messages", 0): "old"})
    ledger.forget({"ticket.messages"})
    assert ledger.lost_topics(cluster_id="new") == set()
    assert ledger.acknowledged("ticket.messages", 0, 0, "new"), "offset 0 on the new broker is fine"
