from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_notifier.domain.digest import PendingAlert, collapse

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def _alert(i: int, kind: str = "breach", age_s: float = 1.0) -> PendingAlert:
    return PendingAlert(
        key=f"k{i}",
        kind=kind,
        ticket_id=f"T{i:03d}",
        brand_name="Acme",
        created_at=NOW - timedelta(seconds=age_s),
    )


def test_under_threshold_posts_each_alone() -> None:
    pending = [_alert(i) for i in range(3)]
    plan = collapse(pending, now=NOW, threshold=5)
    assert plan.digest_text is None
    assert plan.separate == tuple(pending)
    assert plan.collapsed == ()


def test_flood_collapses_into_digest_listing_the_oldest_five() -> None:
    pending = [_alert(i, age_s=i) for i in range(37)]
    plan = collapse(pending, now=NOW, threshold=5, shown=5)
    assert plan.digest_text is not None
    assert plan.digest_text.startswith("*37 breaches in the last minute*; the 5 oldest:")
    listed = [line for line in plan.digest_text.splitlines() if line.startswith("•")]
    assert [line.split("`")[1] for line in listed] == ["T036", "T035", "T034", "T033", "T032"]
    assert len(plan.collapsed) == 37
    assert plan.separate == ()


def test_other_kinds_and_old_alerts_stay_separate() -> None:
    flood = [_alert(i) for i in range(10)]
    warning = _alert(100, kind="warning")
    stale = _alert(200, age_s=300)
    plan = collapse([*flood, warning, stale], now=NOW, threshold=5)
    assert set(plan.separate) == {warning, stale}
    assert set(plan.collapsed) == set(flood)
    assert plan.digest_text is not None and "warning" not in plan.digest_text


def test_invalid_threshold_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        collapse([], now=NOW, threshold=0)
