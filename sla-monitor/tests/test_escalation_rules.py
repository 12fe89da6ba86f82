"""Where a breach goes first: at least the brand lead."""

from socialdesk_sla_monitor.timers import _escalate_from
from tests.support import config_for_tests


def test_a_breach_from_working_levels_goes_to_the_brand_lead() -> None:
    config = config_for_tests()
    for level in (None, "L1", "L2"):
        to_level, agent = config.escalation_target("ourbus", _escalate_from(level))
        assert to_level == "L3"
        assert agent is not None
        assert agent.id == "ob-lead"


def test_a_breach_of_a_lead_owned_ticket_goes_up_one_rung() -> None:
    config = config_for_tests()
    assert config.escalation_target("ourbus", _escalate_from("L3"))[0] == "L4"
