"""``make run --demo`` scales every SLA duration so a first response is due in a minute:
the policies and the ladder too, or an X mention waits 30 minutes while the README says 60 s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.stack.demo import LooseConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "config" / "socialdesk.example.yaml"


def _seconds(node: Any) -> list[float]:
    if isinstance(node, list):
        return [s for item in node for s in _seconds(item)]
    if isinstance(node, dict):
        return [
            s
            for k, v in node.items()
            for s in ([v] if k.endswith("_seconds") and isinstance(v, int | float) else _seconds(v))
        ]
    return []


def test_every_sla_duration_is_scaled_by_one_factor() -> None:
    loose = LooseConfig.load(EXAMPLE)
    raw, factor = loose.with_fast_sla(60)
    assert factor == 60 / loose.raw["sla"]["first_response_seconds"]
    before, after = _seconds(loose.raw["sla"]), _seconds(raw["sla"])
    assert len(before) == len(after) > 10
    assert after == [max(1, round(s * factor)) for s in before]
    # the X public mention policy and the ladder's rungs are within the demo's minutes
    x_policy = next(p for p in raw["sla"]["policies"] if p.get("platforms") == ["x"])
    assert x_policy["first_response_seconds"] <= 60
    assert raw["sla"]["ladder"]["rung_delay_seconds"] <= 60
    assert all(b.get("business_hours", "24/7") == "24/7" for b in raw["brands"])
    # and the strict validator takes the result as it is
    config = SocialdeskConfig.model_validate(raw)
    assert config.sla.first_response_seconds == 60
