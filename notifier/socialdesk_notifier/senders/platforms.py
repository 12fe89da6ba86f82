"""Replies to customers through the platforms' send APIs (Meta Graph, X API v2) over httpx.

The domain plans the calls (window, parts, template: :mod:`socialdesk_notifier.domain.replies`);
this adapter paces and makes them, reads the answers, and says what they mean
(:mod:`socialdesk_notifier.domain.platform_errors`). Each part sent is recorded at once,
so a retry never sends a part twice; a send whose answer was lost is found again through
its echo (which ingest turns into ``OwnMessageSeen``) or, for a public comment reply, in the
comment's replies (:mod:`socialdesk_notifier.senders.comment_lookup`) before anything is re-sent.

Usage::

    sender = PlatformSender("messenger", config=config, clock=clock, http=client, apis=apis,
                            pacer=pacer, uow_factory=uow_factory, echo_wait=timedelta(minutes=2))
    result = await sender.send(delivery)
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from socialdesk_notifier.domain import Delivery, SendResult, backoff_seconds
from socialdesk_notifier.domain.comment_lookup import CommentLookup, comment_lookup, our_reply
from socialdesk_notifier.domain.planning import plan_reply
from socialdesk_notifier.domain.platform_errors import Verdict, graph_verdict, x_verdict
from socialdesk_notifier.domain.replies import (
    PlannedCall,
    Refusal,
    ReplyPlan,
    ReplyRequest,
    text_sha,
)
from socialdesk_notifier.metrics import NotifierMetrics
from socialdesk_notifier.senders.comment_lookup import CommentLookupThrottled, list_replies
from socialdesk_notifier.senders.errors import EchoPending, LookupImpossible
from socialdesk_notifier.senders.pacing import Pacer
from socialdesk_notifier.store import ConversationStore, DeliveryStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import ConfigError, SocialdeskConfig
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_schemas import Channel

__all__ = ["PlatformApis", "PlatformSender"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlatformApis:
    """Base URLs (tests point them at the fakes) and the Graph version."""

    graph: str = "https://graph.facebook.com"
    x: str = "https://api.x.com"
    graph_version: str = "v23.0"

    def url(self, call: PlannedCall) -> str:
        return (self.graph if call.api == "graph" else self.x).rstrip("/") + call.path


@dataclass(frozen=True, slots=True)
class _Answer:
    ok: bool
    ref: str | None = None
    verdict: Verdict | None = None
    code: int | None = None
    error: str = ""
    reset_in: float | None = None
    status: int = 0


class PlatformSender:
    """One platform's replies (``channel`` is the platform: messenger, facebook, ...)."""

    def __init__(
        self,
        channel: Channel,
        *,
        config: SocialdeskConfig,
        clock: Clock,
        http: httpx.AsyncClient,
        apis: PlatformApis,
        pacer: Pacer,
        uow_factory: UnitOfWorkFactory,
        metrics: NotifierMetrics,
        echo_wait: timedelta,
        max_pacing_wait: float,
    ) -> None:
        self.channel: Channel = channel
        self._config = config
        self._clock = clock
        self._http = http
        self._apis = apis
        self._pacer = pacer
        self._uow_factory = uow_factory
        self._metrics = metrics
        self._echo_wait = echo_wait
        self._max_wait = max_pacing_wait

    # --- planning -------------------------------------------------------------------------

    async def _plan(self, delivery: Delivery) -> tuple[ReplyRequest, ReplyPlan | Refusal]:
        request = ReplyRequest.from_payload(delivery.channel, delivery.destination, delivery.payload)
        try:
            brand = self._config.brand(request.brand)
        except (KeyError, LookupError, ConfigError):
            return request, Refusal("no_account", f"brand {request.brand!r} is not in the configuration")
        async with self._uow_factory.quiet() as uow:
            last = await ConversationStore(uow).last_message_at(
                request.brand, request.platform, request.recipient
            )
        plan = plan_reply(
            request, brand, last_customer_at=last, now=self._clock.now(), version=self._apis.graph_version
        )
        return request, plan

    # --- the Sender port ------------------------------------------------------------------

    async def send(self, delivery: Delivery) -> SendResult:
        request, plan = await self._plan(delivery)
        if isinstance(plan, Refusal):
            return SendResult(
                ok=False, permanent=True, reason=plan.reason, error=f"{plan.reason}: {plan.detail}"
            )
        token = self._config.secret(plan.token_env) if plan.token_env else None
        if not token:
            return SendResult(
                ok=False,
                permanent=True,
                reason="no_credentials",
                error=f"no_credentials: no access token for {request.platform} of brand {request.brand} "
                f"(set {plan.token_env or 'the account token_env'})",
            )
        refs = list(delivery.part_refs or [])
        if len(plan.calls) > 1 and delivery.ambiguous_since is not None:
            # find_sent may just have found an earlier part through its echo.
            async with self._uow_factory.quiet() as uow:
                refs = await DeliveryStore(uow).part_refs(delivery.id)
        for call in plan.calls[len(refs) :]:
            turn = await self._pacer.reserve(
                plan.account, recipient=request.recipient, max_wait=self._max_wait
            )
            if not turn.granted:
                # Waiting here would outlive the lease: come back when the pace allows.
                return SendResult(
                    ok=False, error="paced: waiting for the platform's rate", retry_after=turn.wait
                )
            if turn.wait > 0:
                await asyncio.sleep(turn.wait)
            answer = await self._call(call, token)
            if not answer.ok:
                return await self._refused(delivery, plan, request, answer)
            await self._pacer.sent(plan.account, turn)
            if answer.reset_in is not None:  # X: this window's budget is spent
                await self._pacer.hold(plan.account, answer.reset_in)
            assert answer.ref is not None
            refs.append(answer.ref)
            if len(plan.calls) > 1:
                async with self._uow_factory.quiet() as uow:
                    await DeliveryStore(uow).save_parts(delivery.id, refs)
                    await uow.commit()
        self._metrics.platform_ok(self.channel)
        return SendResult(ok=True, external_ref=refs[0] if refs else None, refs=tuple(refs))

    async def find_sent(self, delivery: Delivery, *, since: datetime) -> str | None:
        """The echo of the part whose answer was lost; until it could have arrived, wait."""
        request, plan = await self._plan(delivery)
        if isinstance(plan, Refusal):
            return None  # nothing would be sent: let send() refuse it
        refs = list(delivery.part_refs or [])
        if len(refs) >= len(plan.calls):
            return refs[0]
        call = plan.calls[len(refs)]
        async with self._uow_factory.quiet() as uow:
            found = await ConversationStore(uow).find_echo(
                brand=request.brand,
                platform=request.platform,
                key=call.key,
                recipient=request.recipient,
                text_sha=text_sha(call.text),
                since=since,
            )
            if found is not None and len(plan.calls) > 1:
                await DeliveryStore(uow).save_parts(delivery.id, [*refs, found])
                await uow.commit()
        if found is not None:
            if len(refs) + 1 < len(plan.calls):
                return None  # that part went out; send() continues with the next one
            return refs[0] if refs else found
        waiting = self._clock.now() - (delivery.ambiguous_since or since) < self._echo_wait
        lookup = comment_lookup(request, plan)
        if lookup is not None:
            found = await self._find_comment_reply(delivery, plan, lookup, since=since, waiting=waiting)
            if found is not None:
                return found
        if waiting:
            raise EchoPending(f"no echo yet of {call.key}; waiting up to {self._echo_wait} before a resend")
        return None

    async def _find_comment_reply(
        self, delivery: Delivery, plan: ReplyPlan, lookup: CommentLookup, *, since: datetime, waiting: bool
    ) -> str | None:
        """Our public comment reply, asked of the platform (it carries no key to echo).

        Asked on every look while the echo may still come, so a reply that went out is
        settled at once; not found, the echo wait still runs out before a resend (Graph's
        listing may lag its write). Decision 0404.
        """
        token = self._config.secret(plan.token_env) if plan.token_env else None
        if not token:
            return None  # send() refuses it: no_credentials
        try:
            listed = await list_replies(
                self._http,
                self._apis.graph,
                lookup,
                token=token,
                since=since,
                fallback_hold=backoff_seconds(delivery.throttles + 1),
            )
        except CommentLookupThrottled as exc:
            # The account's budget is spent for its sends too (Graph counts reads with writes).
            await self._pacer.throttled(plan.account, hold_seconds=exc.retry_after, explicit=exc.explicit)
            raise
        except LookupImpossible as exc:
            if waiting:  # an echo through ingest may still settle it
                raise EchoPending(f"{exc}; waiting for an echo up to {self._echo_wait}") from exc
            raise
        ours = [c.id for c in listed if c.author_id == lookup.account]
        async with self._uow_factory.quiet() as uow:
            taken = await ConversationStore(uow).recorded_replies(platform=delivery.channel, ids=ours)
        found = our_reply(listed, account=lookup.account, text=lookup.text, since=since, taken=taken)
        if found is not None:
            log.info(
                "delivery %s: its comment reply %s is on %s already; not sent again",
                delivery.id,
                found,
                self.channel,
            )
        return found

    # --- HTTP -----------------------------------------------------------------------------

    async def _call(self, call: PlannedCall, token: str) -> _Answer:
        started = self._clock.now()
        try:
            response = await self._http.post(
                self._apis.url(call), json=call.body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.ConnectError as exc:  # nothing reached the platform
            return _Answer(
                False, verdict=Verdict("transient", "platform_unavailable"), error=f"unreachable: {exc}"
            )
        except httpx.HTTPError as exc:  # sent, maybe processed, answer lost
            return _Answer(
                False, verdict=Verdict("transient", "ambiguous"), error=f"{type(exc).__name__}: {exc}"
            )
        finally:
            self._metrics.observe_send(self.channel, (self._clock.now() - started).total_seconds())
        return _read_x(response) if call.api == "x" else _read_graph(response)

    async def _refused(
        self, delivery: Delivery, plan: ReplyPlan, request: ReplyRequest, answer: _Answer
    ) -> SendResult:
        verdict = answer.verdict or Verdict("permanent", "platform_error")
        error = f"{request.platform}: {answer.error}"
        if verdict.kind == "throttled":
            hold = answer.reset_in if answer.reset_in is not None else backoff_seconds(delivery.throttles + 1)
            await self._pacer.throttled(
                plan.account,
                recipient=request.recipient if verdict.per_recipient else None,
                hold_seconds=hold,
                explicit=answer.reset_in is not None,
            )
            self._metrics.throttled(self.channel)
            log.warning(
                "%s throttled us (code %s): holding %s for %.1f s",
                self.channel,
                answer.code,
                "that recipient" if verdict.per_recipient else "the sending account",
                hold,
            )
            return SendResult(
                ok=False, throttled=True, retry_after=hold, error=error, code=answer.code, reason="throttled"
            )
        if verdict.kind == "transient":
            ambiguous = verdict.reason == "ambiguous" or answer.status >= 500
            return SendResult(
                ok=False, error=error, ambiguous=ambiguous, code=answer.code, reason=verdict.reason
            )
        if verdict.reason == "duplicate_content" and delivery.ambiguous_since is not None:
            # X refuses a post identical to one of ours: the attempt whose answer was lost
            # went out after all (its id is unknown until the echo comes back).
            log.info(
                "%s: an earlier attempt of delivery %s went out (duplicate refused)",
                self.channel,
                delivery.id,
            )
            return SendResult(ok=True, external_ref=None)
        if verdict.reason in {"token_expired", "permission"}:
            self._metrics.channel_unhealthy(self.channel, verdict.reason)
            log.warning(
                "CHANNEL HEALTH: %s account %s refuses our sends (%s, code %s): check its token and permissions",
                self.channel,
                plan.account,
                verdict.reason,
                answer.code,
            )
        return SendResult(ok=False, permanent=True, error=error, code=answer.code, reason=verdict.reason)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _read_graph(response: httpx.Response) -> _Answer:
    body = _json(response)
    if response.is_success and "error" not in body:
        ref = body.get("message_id") or body.get("id")
        if ref is None and body.get("messages"):
            ref = body["messages"][0].get("id")
        return _Answer(True, ref=str(ref) if ref is not None else "")
    error = body.get("error") or {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    verdict = graph_verdict(http_status=response.status_code, code=code, subcode=subcode)
    message = str(error.get("message") or response.reason_phrase)[:300]
    return _Answer(
        False,
        verdict=verdict,
        code=code if code is not None else response.status_code,
        error=f"(HTTP {response.status_code}) {message}",
        status=response.status_code,
    )


def _read_x(response: httpx.Response) -> _Answer:
    body = _json(response)
    reset_in = None
    remaining = response.headers.get("x-rate-limit-remaining")
    reset = response.headers.get("x-rate-limit-reset")
    if reset is not None and reset.isdigit():
        reset_in = max(1.0, math.ceil(int(reset) - time.time()))
    if response.is_success and isinstance(body.get("data"), dict):
        data = body["data"]
        ref = data.get("dm_event_id") or data.get("id")
        spent = remaining == "0" and reset_in is not None
        return _Answer(True, ref=str(ref), reset_in=reset_in if spent else None)
    verdict = x_verdict(
        http_status=response.status_code, problem_type=body.get("type"), detail=str(body.get("detail", ""))
    )
    detail = body.get("detail") or body.get("title") or response.reason_phrase
    return _Answer(
        False,
        verdict=verdict,
        code=response.status_code,
        error=f"(HTTP {response.status_code}) {detail}"[:300],
        reset_in=reset_in,
        status=response.status_code,
    )
