"""Who gets a ticket: pure routing rules, no IO."""

from socialdesk_assigner.routing import pick_agent
from socialdesk_runtime.config import Agent


def agent(agent_id: str, cap: int = 3) -> Agent:
    return Agent(id=agent_id, name=agent_id, brands=["ourbus"], level="L1", max_open_tickets=cap)


TEAM = [agent("a"), agent("b"), agent("c")]


def test_round_robin_starts_after_the_last_pick_and_wraps() -> None:
    picks = []
    last = None
    for _ in range(4):
        pick = pick_agent(TEAM, last_agent_id=last, open_load={})
        assert pick is not None
        picks.append(pick.agent.id)
        last = pick.agent.id
    assert picks == ["a", "b", "c", "a"]


def test_agents_at_capacity_are_skipped_and_nobody_left_means_none() -> None:
    pick = pick_agent(TEAM, last_agent_id="a", open_load={"b": 3})
    assert pick is not None
    assert pick.agent.id == "c"
    assert pick_agent(TEAM, last_agent_id=None, open_load={"a": 3, "b": 5, "c": 3}) is None


def test_returning_customer_keeps_their_agent_when_they_have_room() -> None:
    pick = pick_agent(TEAM, last_agent_id="a", open_load={}, previous_owner_id="c")
    assert pick is not None
    assert (pick.agent.id, pick.reason) == ("c", "same_customer")
    full = pick_agent(TEAM, last_agent_id="a", open_load={"c": 3}, previous_owner_id="c")
    assert full is not None
    assert (full.agent.id, full.reason) == ("b", "round_robin")


def test_a_departed_last_agent_restarts_the_rotation() -> None:
    pick = pick_agent(TEAM, last_agent_id="zed", open_load={})
    assert pick is not None
    assert pick.agent.id == "a"
