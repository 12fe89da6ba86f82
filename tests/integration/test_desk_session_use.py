"""What counts as using a desk session, and what ends it (decision 0304 and its review), through
the assigner's real bootstrap on real PostgreSQL with a fake clock: signing out everywhere
from a session that already ended signs out nothing else and says so."""

from __future__ import annotations

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from tests.integration.test_desk import desk_config
from tests.integration.test_desk_sign_in import sign_in, still_signed_in
from tests.support import Booted, booted

pytestmark = pytest.mark.integration

#: A minute idle, five at most: short enough for the fake clock.
SHORT = {"sessions": {"idle_seconds": 60, "lifetime_seconds": 300}}


def counted(svc: Booted, name: str, **labels: str) -> float:
    return svc.runtime.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_signing_out_everywhere_from_an_ended_session_ends_nothing_else_and_says_so(
    fresh_db: str,
) -> None:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, config=desk_config(desk=SHORT)) as svc:
        laptop = await sign_in(svc, "ob-ana")
        clock.advance(seconds=30)
        phone = await sign_in(svc, "ob-ana")
        clock.advance(seconds=40)  # the laptop's session ended idle; the phone's did not
        out = await svc.client.post(
            "/desk/signout", data={"everywhere": "1"}, headers={"Cookie": f"desk_session={laptop}"}
        )
        # no claim that every browser is signed out: to sign in, saying why
        assert out.status_code == 303 and out.headers["location"] == "/desk?signed_out=ended"
        assert 'desk_session=""' in out.headers["set-cookie"]
        said = await svc.client.get(out.headers["location"])
        assert "had already ended" in said.text and "nothing was signed out" in said.text
        assert 'id="signin"' in said.text and "in every other one" not in said.text
        # nothing counted as signed out, nor as an expired use while signing out
        sessions = "assigner_desk_sessions_total"
        assert counted(svc, sessions, event="signed_out_everywhere") == 0
        assert counted(svc, sessions, event="signed_out") == 0
        assert counted(svc, "assigner_desk_session_refusals_total", reason="expired") == 0
        assert await still_signed_in(svc, phone)
        # from a valid session it ends them all, and says so
        out = await svc.client.post(
            "/desk/signout", data={"everywhere": "1"}, headers={"Cookie": f"desk_session={phone}"}
        )
        assert out.headers["location"] == "/desk?signed_out=everywhere"
        assert not await still_signed_in(svc, phone)
        assert counted(svc, sessions, event="signed_out_everywhere") == 1
