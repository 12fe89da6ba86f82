"""Statements of constant text for the notifier's per-batch writes and look-ups.

A multi-row ``VALUES`` (``pg_insert(t).values(rows)``) or an ``IN`` list is a new SQL
text for every batch size: SQLAlchemy compiles it anew and PostgreSQL prepares and plans
it again. Here a batch travels as one array per column (``unnest``) and a look-up binds
one array (``= ANY``), so each statement is compiled and prepared once per connection.

Usage::

    sql = unnest_insert("slack_tickets", (("ticket_id", "uuid"), ("brand", "text")), "ON CONFLICT DO NOTHING")
    await conn.execute(sql, columns_of(rows, ["ticket_id", "brand"]))
    select(t).where(any_of(t.c.ticket_id, ids))
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import ARRAY, ColumnElement, TextClause, Uuid, any_, bindparam, text

__all__ = ["any_of", "columns_of", "json_texts", "unnest_insert"]

_UUIDS = ARRAY(Uuid)


def any_of(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column = ANY(:uuids)``: one statement text whatever the number of ids."""
    return column == any_(bindparam(None, list(values), type_=_UUIDS))  # type: ignore[no-any-return]


@functools.cache
def unnest_insert(table: str, columns: tuple[tuple[str, str], ...], tail: str) -> TextClause:
    """``INSERT INTO table (cols) SELECT ... FROM unnest(...) WITH ORDINALITY ... ORDER BY``
    (rows inserted in the arrays' order) then ``tail`` (ON CONFLICT ...). ``columns`` are
    (name, PostgreSQL type); a ``json``/``jsonb`` column is bound as ``text[]`` and cast."""
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(
        f"CAST(:{name} AS {'text' if kind in ('json', 'jsonb') else kind}[])" for name, kind in columns
    )
    picked = ", ".join(
        f"CAST(v.{name} AS {kind})" if kind in ("json", "jsonb") else f"v.{name}" for name, kind in columns
    )
    return text(
        f"INSERT INTO {table} ({names}) SELECT {picked} FROM unnest({arrays}) "
        f"WITH ORDINALITY AS v({names}, n) ORDER BY v.n {tail}"
    )


def columns_of(rows: Sequence[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> dict[str, list[Any]]:
    """Rows as one list per column (missing keys are NULL; JSON values as their text)."""
    out: dict[str, list[Any]] = {}
    for name, kind in columns:
        values = [row.get(name) for row in rows]
        out[name] = json_texts(values) if kind in ("json", "jsonb") else values
    return out


def json_texts(values: Iterable[Any]) -> list[str]:
    """JSON values as text, as the engine's serializer writes them (``None`` is JSON
    ``null``, as SQLAlchemy's JSON type stores a Python ``None``)."""
    return [orjson.dumps(v).decode() for v in values]
