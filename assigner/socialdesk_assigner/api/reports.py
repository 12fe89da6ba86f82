"""Reports for managers (seeds 000, 002): per agent, brand or channel over a period, as JSON
or CSV; and the cockpit (what is open, waiting, answered, stalled, at risk; SLA
compliance; hot topics; who is on and how loaded)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from socialdesk_assigner.api.common import Desk, plain
from socialdesk_assigner.domain.permissions import rank
from socialdesk_assigner.store.reports import By, ReportStore

__all__ = ["report_routes", "summary_csv"]

_COLUMNS = (
    "key",
    "handled",
    "replies",
    "first_response_median_s",
    "first_response_p90_s",
    "resolution_median_s",
    "resolution_p90_s",
    "sla_breaches",
)


def report_routes(router: APIRouter, desk: Desk) -> None:
    @router.get("/reports/summary")
    async def summary_route(
        request: Request,
        by: By = "agent",
        since: datetime | None = Query(default=None, description="start (ISO 8601); default 7 days ago"),
        until: datetime | None = Query(default=None, description="end (ISO 8601), exclusive; default now"),
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        """Handled tickets, replies, first response and resolution time (median, p90), SLA
        breaches and root causes by category, per agent, brand or channel. Leads (L3) and up."""
        agent = await desk.authenticate(request)
        if rank(agent.level) < rank("L3"):
            raise HTTPException(status_code=403, detail="reports are for brand leads, managers and TMT")
        if any(t is not None and t.tzinfo is None for t in (since, until)):
            raise HTTPException(status_code=422, detail="since and until need a timezone (for example Z)")
        end = until or desk.clock.now()
        try:
            start = since or end - timedelta(days=7)
        except OverflowError:  # found by the fuzz: an until in the first week of year 1
            raise HTTPException(
                status_code=422, detail="until is too early to report the 7 days before it"
            ) from None
        if start >= end:
            raise HTTPException(status_code=422, detail="since must be before until")
        brands = None if agent.level == "TMT" else agent.brands
        async with desk.uow_factory() as uow:
            rows = await ReportStore(uow).summary(by=by, since=start, until=end, brands=brands)
        if format == "csv":
            return summary_csv(by, rows)
        return JSONResponse(
            content=plain({"by": by, "since": start, "until": end, "rows": list(rows.values())})
        )

    @router.get("/reports/cockpit")
    async def cockpit_route(request: Request) -> JSONResponse:
        """The manager's cockpit as JSON (the page at ``/desk/cockpit`` shows it)."""
        agent = await desk.authenticate(request)
        if rank(agent.level) < rank("L3"):
            raise HTTPException(status_code=403, detail="the cockpit is for brand leads, managers and TMT")
        now = desk.clock.now()
        idle = desk.config.desk.idle_reassign_seconds or 3600.0
        brands = None if agent.level == "TMT" else agent.brands
        async with desk.uow_factory() as uow:
            store = ReportStore(uow)
            data = await store.cockpit(brands=brands, now=now, stalled_before=now - timedelta(seconds=idle))
            data["hot_topics"] = await store.hot_topics(brands=brands)
        return JSONResponse(content=plain(data))


def summary_csv(by: By, rows: dict[str, dict[str, Any]]) -> Response:
    """The summary as CSV: one line per key, a column per root-cause category."""
    out = io.StringIO()
    causes = sorted({c for r in rows.values() for c in r["root_causes"]})
    writer = csv.writer(out)
    writer.writerow([by if c == "key" else c for c in _COLUMNS] + [f"root_cause:{c}" for c in causes])
    for r in rows.values():
        writer.writerow(
            [r[c] if r[c] is not None else "" for c in _COLUMNS]
            + [r["root_causes"].get(c, 0) for c in causes]
        )
    return Response(
        content=out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="desk-report-by-{by}.csv"'},
    )
