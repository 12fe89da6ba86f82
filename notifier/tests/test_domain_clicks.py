import pytest

from socialdesk_notifier.domain.clicks import TicketView, judge_click
from socialdesk_runtime.config import SocialdeskConfig
from tests.support import config_for_tests


@pytest.fixture(scope="module")
def config() -> SocialdeskConfig:
    base = config_for_tests()
    agents = [a.model_copy(update={"slack_user_id": "U0ANA"}) if a.id == "ob-ana" else a for a in base.agents]
    return base.model_copy(update={"agents": agents})


OPEN = TicketView(brand="ourbus", resolved=False)


def test_a_rostered_lead_may_acknowledge(config: SocialdeskConfig) -> None:
    outcome = judge_click(
        action="acknowledge", slack_user_id="U0FARAH", ticket=OPEN, config=config, required_level="L3"
    )
    assert (outcome.agent_id, outcome.refusal) == ("ob-lead", None)


def test_unknown_slack_user_is_refused(config: SocialdeskConfig) -> None:
    outcome = judge_click(action="acknowledge", slack_user_id="U0NOBODY", ticket=OPEN, config=config)
    assert outcome.agent_id is None and outcome.refusal is not None and "roster" in outcome.refusal


def test_insufficient_level_is_refused(config: SocialdeskConfig) -> None:
    outcome = judge_click(
        action="acknowledge", slack_user_id="U0ANA", ticket=OPEN, config=config, required_level="L3"
    )
    assert outcome.refusal is not None and "L3" in outcome.refusal


def test_other_brand_unknown_resolved_and_double_clicks_are_refused(config: SocialdeskConfig) -> None:
    def refusal(ticket: TicketView | None, action: str = "acknowledge") -> str | None:
        return judge_click(action=action, slack_user_id="U0FARAH", ticket=ticket, config=config).refusal  # type: ignore[arg-type]

    assert refusal(TicketView(brand="rally", resolved=False)) is not None
    assert refusal(None) is not None and "unknown" in (refusal(None) or "")
    assert "resolved" in (refusal(TicketView(brand="ourbus", resolved=True)) or "")
    assert "already acknowledged" in (
        refusal(TicketView(brand="ourbus", resolved=False, acknowledged_by="ob-mgr")) or ""
    )
    assert "already own" in (
        refusal(TicketView(brand="ourbus", resolved=False, owner_agent_id="ob-lead"), "take_ownership") or ""
    )
    assert (
        refusal(TicketView(brand="ourbus", resolved=False, owner_agent_id="ob-ana"), "take_ownership") is None
    )
