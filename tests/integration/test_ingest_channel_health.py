"""Channel health through ingest's real bootstrap, against the Meta and X fakes: a token
not set, expired or revoked becomes one ``ChannelHealthChanged`` (and the gauge), the
recovery another; an unchanged state publishes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from prometheus_client import generate_latest

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_ingest.health_worker import ChannelHealthWorker
from socialdesk_runtime.config import load_config
from socialdesk_schemas.platforms import ChannelHealthChanged
from tests.fakes.meta import FakeMeta
from tests.fakes.x import FakeX
from tests.support import TEST_CONFIG, TEST_ENV, Booted, booted

pytestmark = pytest.mark.integration

PAGE, IG = "730011223344556", "17841400000000001"


@pytest.fixture
def fakes() -> Iterator[tuple[FakeMeta, FakeX]]:
    with FakeMeta(token="EAAG-test", pages={PAGE}, ig_accounts={IG}) as meta, FakeX(user_token="x-user") as x:
        yield meta, x


@pytest.fixture
async def svc(fresh_db: str, fakes: tuple[FakeMeta, FakeX]) -> AsyncIterator[tuple[Booted, dict[str, str]]]:
    meta, x = fakes
    env = {**TEST_ENV, "TEST_META_TOKEN": "EAAG-test"}
    config = load_config(TEST_CONFIG, env=env)  # secrets are read from ``env`` at each check
    config = config.model_copy(
        update={
            "platforms": config.platforms.model_copy(update={"graph_base_url": meta.url, "x_base_url": x.url})
        }
    )
    async with booted(SPEC, fresh_db, config=config) as service:
        yield service, env


async def test_token_problems_are_announced_once_and_so_is_the_recovery(
    svc: tuple[Booted, dict[str, str]],
) -> None:
    service, env = svc
    (health,) = (w for w in service.parts.workers if isinstance(w, ChannelHealthWorker))
    first = await health.run_once()
    # Tokens not set in the test environment: WhatsApp and X of OurBus, Rally's Page and X.
    assert sorted((e.brand, e.platform, e.problem) for e in first) == [
        ("ourbus", "whatsapp", "token_missing"),
        ("ourbus", "x", "token_missing"),
        ("rally", "facebook", "token_missing"),
        ("rally", "x", "token_missing"),
    ]
    assert await health.run_once() == []  # nothing changed: nothing published
    assert len([e for e in await service.emitted() if isinstance(e, ChannelHealthChanged)]) == 4

    env["TEST_META_TOKEN"] = "expired-token"  # the Page and Instagram token was revoked
    expired = await health.run_once()
    assert sorted((e.platform, e.problem, e.error_code, e.healthy) for e in expired) == [
        ("facebook", "token_expired", 190, False),
        ("instagram", "token_expired", 190, False),
    ]
    scraped = generate_latest(service.runtime.metrics.registry).decode()
    assert 'ingest_channel_healthy{brand="ourbus",platform="facebook"} 0.0' in scraped

    env["TEST_META_TOKEN"] = "EAAG-test"  # renewed
    recovered = await health.run_once()
    assert sorted((e.platform, e.healthy, e.problem) for e in recovered) == [
        ("facebook", True, None),
        ("instagram", True, None),
    ]
