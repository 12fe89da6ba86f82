"""Generated deliveries through ingest's real routes and extraction worker (hypothesis):
whatever a signed body holds, the answer is 200 or 400, never a 5xx, and extraction never
fails; forged signatures are always refused. ``INGEST_FUZZ_EXAMPLES`` scales it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_ingest.domain.platforms import meta_signature, x_signature
from socialdesk_ingest.extraction_worker import ExtractionWorker
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.embedded import EmbeddedPostgres
from tests.support import TEST_ENV, Booted, booted

pytestmark = pytest.mark.integration

EXAMPLES = max(50, int(os.environ.get("INGEST_FUZZ_EXAMPLES", "1000")) // 10)
PAGE, IG, WA, X_USER = "730011223344556", "17841400000000001", "408877665544332", "3300112233"

leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.text(max_size=12)
    | st.sampled_from(
        [PAGE, IG, WA, X_USER, "0", "message_create", "comment", "add", "edited", "remove", "text", "failed"]
    )
)
keys = st.sampled_from(
    [
        "object",
        "entry",
        "id",
        "time",
        "messaging",
        "changes",
        "field",
        "value",
        "message",
        "mid",
        "text",
        "sender",
        "recipient",
        "timestamp",
        "from",
        "item",
        "verb",
        "comment_id",
        "post_id",
        "parent_id",
        "metadata",
        "phone_number_id",
        "messages",
        "statuses",
        "type",
        "errors",
        "code",
        "for_user_id",
        "direct_message_events",
        "tweet_create_events",
        "message_create",
        "sender_id",
        "users",
        "id_str",
        "user",
        "is_echo",
        "delivery",
        "read",
        "mids",
        "watermark",
        "media",
        "media_id",
        "message_echoes",
    ]
)
json_values = st.recursive(
    leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(keys, c, max_size=5), max_leaves=25
)
meta_bodies = st.fixed_dictionaries(
    {
        "object": st.sampled_from(["page", "instagram", "whatsapp_business_account", "user"]),
        "entry": st.lists(json_values, max_size=3),
    }
)
x_bodies = st.dictionaries(keys, json_values, max_size=4).map(lambda d: {"for_user_id": X_USER, **d})


@pytest.fixture(scope="module")
def fuzz_db(postgres: EmbeddedPostgres) -> str:
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    return postgres.url(name)


@pytest.fixture
async def svc(fuzz_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fuzz_db, clock=FakeClock()) as service:
        yield service


async def _post(svc: Booted, path: str, raw: bytes, header: str, sig: str) -> int:
    r = await svc.client.post(path, content=raw, headers={header: sig})
    return r.status_code


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=meta_bodies | x_bodies, forged=st.booleans())
async def test_no_body_gets_a_5xx_or_breaks_extraction(
    svc: Booted, body: dict[str, object], forged: bool
) -> None:
    raw = json.dumps(body).encode()
    meta = "object" in body
    secret = TEST_ENV["TEST_META_APP_SECRET" if meta else "TEST_X_CONSUMER_SECRET"]
    sig = (meta_signature if meta else x_signature)(raw, "forged" if forged else secret)
    header = "X-Hub-Signature-256" if meta else "x-twitter-webhooks-signature"
    status = await _post(svc, "/v1/webhooks/meta" if meta else "/v1/webhooks/x", raw, header, sig)
    assert status == (401 if forged else 200)
    (worker,) = (w for w in svc.parts.workers if isinstance(w, ExtractionWorker))
    while await worker.run_once():
        pass
    await svc.emitted()
    async with svc.engine.connect() as conn:
        failed = (
            await conn.execute(text("SELECT count(*) FROM raw_deliveries WHERE extract_error IS NOT NULL"))
        ).scalar_one()
    assert failed == 0  # every stored delivery was extracted (or counted as skipped items)
