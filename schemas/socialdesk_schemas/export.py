"""Export the JSON Schema of every event, and check that a change is backward compatible.

``python -m socialdesk_schemas.export`` writes:
- ``schemas/json/<EventType>.json``: the schema of the current model (a test fails when
  it is stale);
- ``schemas/json/history/<EventType>.v<N>.json``: the first export of each schema version,
  written once and never overwritten. The current model must stay backward compatible with
  the history file of its version: a breaking change needs a new ``SCHEMA_VERSION``.
- ``schemas/json/topics.json``: the topic registry.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from socialdesk_schemas._envelope import Event
from socialdesk_schemas.topics import ALL_EVENT_TYPES, all_topics

__all__ = ["compatibility_problems", "current_schemas", "export", "json_dir"]


def json_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "json"


def _event_type(cls: type[Event]) -> str:
    return str(cls.model_fields["event_type"].default)


def schema_of(cls: type[Event]) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="serialization")
    schema["$id"] = f"https://socialdesk.dev/schemas/{_event_type(cls)}.v{cls.SCHEMA_VERSION}.json"
    schema["x-schema-version"] = cls.SCHEMA_VERSION
    return schema


def current_schemas() -> dict[str, dict[str, Any]]:
    """File name → schema, for everything :func:`export` writes (history excluded)."""
    files = {f"{_event_type(cls)}.json": schema_of(cls) for cls in ALL_EVENT_TYPES}
    files["topics.json"] = {
        "topics": [
            {
                "name": t.name,
                "key": t.key,
                "writer": t.writer,
                "partitions": t.partitions,
                "value_types": [_event_type(v) for v in t.value_types],
            }
            for t in all_topics()
        ]
    }
    return files


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export(target: Path | None = None) -> list[Path]:
    """Write the current export and any missing history file; return the paths written."""
    base = target or json_dir()
    (base / "history").mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in current_schemas().items():
        path = base / name
        if not path.exists() or path.read_text() != dumps(schema):
            path.write_text(dumps(schema))
            written.append(path)
    for cls in ALL_EVENT_TYPES:
        frozen = base / "history" / f"{_event_type(cls)}.v{cls.SCHEMA_VERSION}.json"
        if not frozen.exists():
            frozen.write_text(dumps(schema_of(cls)))
            written.append(frozen)
    return written


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}))
    return node


def _types(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    node = _resolve(schema, node)
    if "anyOf" in node:
        return set().union(*(_types(schema, n) for n in node["anyOf"]))
    if "enum" in node:
        return {f"enum:{v}" for v in node["enum"]}
    if "const" in node:
        return {f"enum:{node['const']}"}
    t = node.get("type")
    if isinstance(t, list):
        return set(t)
    return {t} if isinstance(t, str) else {"any"}


def compatibility_problems(old: dict[str, Any], new: dict[str, Any], *, path: str = "") -> list[str]:
    """Why a consumer built on ``new`` could not read an event written under ``old``.

    Backward compatible means: no property the old schema had is removed, no property
    becomes required that was not, and every value the old schema allowed is still allowed.
    """
    problems: list[str] = []
    old_props = old.get("properties", {})
    new_props = new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"{path}{name}: removed")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{path}{name}: newly required")
    for name, old_node in old_props.items():
        if name not in new_props:
            continue
        old_t, new_t = _types(old, old_node), _types(new, new_props[name])
        if "any" not in new_t and not old_t <= new_t:
            problems.append(f"{path}{name}: no longer accepts {sorted(old_t - new_t)}")
        old_r, new_r = _resolve(old, old_node), _resolve(new, new_props[name])
        if "properties" in old_r and "properties" in new_r:
            problems += compatibility_problems(
                {**old_r, "$defs": old.get("$defs", {})},
                {**new_r, "$defs": new.get("$defs", {})},
                path=f"{path}{name}.",
            )
    return problems


if __name__ == "__main__":
    for p in export():
        print(f"wrote {p}")
    sys.exit(0)
