"""The ticket page's context in one round trip: classification, the customer on every
linked channel and their other tickets, the incident group, SLA clocks, notes,
follow-ups and history, each as a JSON value of one statement (eight queries cost eight
round trips, which under load dominated the page's latency)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import String, Uuid, bindparam, text

from socialdesk_runtime.db import UnitOfWork

__all__ = ["page_context"]

_TS = "to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"


def _ts(col: str) -> str:
    return f"CASE WHEN {col} IS NULL THEN NULL ELSE {_TS.format(col=col)} END"


_PAGE = text(
    f"""
WITH profile AS (  -- the customer and everyone linked to them (ingest's CustomerLinked)
  SELECT CAST(:c AS uuid) AS id
  UNION
  SELECT l2.customer_id FROM customer_links l1 JOIN customer_links l2 ON l2.profile_id = l1.profile_id
  WHERE l1.customer_id = :c
)
SELECT
  (SELECT json_build_object(
     'message_id', c.message_id, 'ticket_id', c.ticket_id, 'queue', c.queue, 'category', c.category,
     'priority', c.priority, 'sentiment', c.sentiment, 'language', c.language, 'reasons', c.reasons,
     'confidence', c.confidence, 'auto_reply', c.auto_reply, 'classifier_version', c.classifier_version,
     'at', {_ts("c.at")})
   FROM classifications c WHERE c.ticket_id = :t ORDER BY c.at DESC LIMIT 1) AS classification,
  (SELECT coalesce(json_agg(json_build_object(
     'customer_id', u.customer_id, 'platform', u.platform, 'platform_user_id', u.platform_user_id,
     'handle', u.handle, 'display_name', u.display_name, 'followers', u.followers,
     'last_seen_at', {_ts("u.last_seen_at")}) ORDER BY u.platform), '[]')
   FROM customers u WHERE u.customer_id IN (SELECT id FROM profile)) AS channels,
  (SELECT coalesce(json_agg(o), '[]') FROM (
     SELECT k.ticket_id, k.brand, k.platform, k.status, k.category, {_ts("k.received_at")} AS received_at
     FROM tickets k WHERE k.customer_id IN (SELECT id FROM profile) AND k.ticket_id <> :t
     ORDER BY k.received_at DESC LIMIT 50) o
  ) AS other_tickets,
  (SELECT count(*) FROM tickets g WHERE :g IS NOT NULL AND g.group_id = :g AND g.brand = :b) AS group_tickets,
  (SELECT count(*) FROM tickets g WHERE :g IS NOT NULL AND g.group_id = :g AND g.brand = :b
     AND g.status IN ('open', 'assigned', 'pending')) AS group_open,
  (SELECT json_build_object('volume', i.volume, 'sample_text', i.sample_text)
   FROM incident_groups i WHERE i.brand = :b AND i.group_id = :g) AS trend,
  (SELECT coalesce(json_agg(s ORDER BY s.clock), '[]') FROM (
     SELECT x.ticket_id, x.clock, x.state, {_ts("x.due_at")} AS due_at, {_ts("x.warn_at")} AS warn_at,
       {_ts("x.armed_at")} AS armed_at, {_ts("x.warned_at")} AS warned_at,
       {_ts("x.breached_at")} AS breached_at, {_ts("x.stopped_at")} AS stopped_at
     FROM sla_clocks x WHERE x.ticket_id = :t) s
  ) AS clocks,
  (SELECT coalesce(json_agg(n ORDER BY n.added_at_raw), '[]') FROM (
     SELECT m.note_id, m.ticket_id, m.agent_id, m.text, m.kind, {_ts("m.added_at")} AS added_at,
       m.added_at AS added_at_raw
     FROM notes m WHERE m.ticket_id = :t) n
  ) AS notes,
  (SELECT coalesce(json_agg(f ORDER BY f.due_raw), '[]') FROM (
     SELECT p.follow_up_id, p.ticket_id, p.agent_id, {_ts("p.due_at")} AS due_at, p.note,
       {_ts("p.promised_at")} AS promised_at, p.due_at AS due_raw
     FROM follow_ups p WHERE p.ticket_id = :t) f
  ) AS follow_ups,
  (SELECT coalesce(json_agg(h ORDER BY h.id), '[]') FROM (
     SELECT y.id, {_ts("y.at")} AS at, y.kind, y.actor, y.detail FROM history y WHERE y.ticket_id = :t) h
  ) AS history
"""
).bindparams(
    bindparam("t", type_=Uuid),
    bindparam("c", type_=Uuid),
    bindparam("b", type_=String),
    bindparam("g", type_=String),
)


def _drop(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in keys} for row in rows]


async def page_context(
    uow: UnitOfWork, *, ticket_id: uuid.UUID, customer_id: uuid.UUID, brand: str, group_id: str | None
) -> dict[str, Any]:
    row = (await uow.conn.execute(_PAGE, {"t": ticket_id, "c": customer_id, "b": brand, "g": group_id})).one()
    group = None
    # The classifier gives a post it cannot yet place a pending group of its own (decision
    # 0110): a group of one ticket is no incident to show or answer as a whole.
    if group_id is not None and (row.group_tickets or 0) >= 2:
        trend = row.trend or {}
        group = {
            "group_id": group_id,
            "tickets": row.group_tickets,
            "open_tickets": row.group_open,
            "trend_volume": trend.get("volume"),
            "sample_text": trend.get("sample_text"),
        }
    return {
        "classification": row.classification,
        "customer": {"channels": row.channels, "other_tickets": row.other_tickets},
        "group": group,
        "sla": row.clocks,
        "notes": _drop(row.notes, "added_at_raw"),
        "follow_ups": _drop(row.follow_ups, "due_raw"),
        "history": _drop(row.history, "id"),
    }
