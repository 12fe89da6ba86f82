"""Reading the configuration file: YAML with line numbers, every problem at once.

A bad file stops the process with *every* problem listed, each naming the file line and
the field, e.g.::

    socialdesk.yaml:42: agents[3].level: Input should be 'L1', 'L2', 'L3', 'L4' or 'TMT'

Why line numbers: the people who edit this file are support leads, not the developers who
wrote the models; "agents.3.level" alone sends them counting list items by hand. A
mistyped key gets a "did you mean" from the field names of the model at that place.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from socialdesk_runtime.config.model import SocialdeskConfig
from socialdesk_runtime.config.rules import CROSS_FIELD, Location, render_loc

__all__ = ["ConfigError", "load_config"]


class ConfigError(Exception):
    """The configuration file was refused. ``str()`` lists every problem, one per line.

    ``problems`` holds the same lines (``file:line: field: message``) for callers that
    want to show them differently.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        header = f"{source}: configuration refused ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *(f"  {p}" for p in self.problems)]))


def load_config(path: Path, *, env: Mapping[str, str] | None = None) -> SocialdeskConfig:
    """Read, validate and return the configuration at ``path``.

    ``env`` replaces ``os.environ`` for :meth:`SocialdeskConfig.secret` (tests pass a dict).
    Raises :class:`ConfigError` listing every problem with its line, never a partial config.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [f"{source}: cannot read the file: {exc}"]) from None

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ConfigError(source, [f"{source}:1: the file is empty; start from socialdesk.example.yaml"])
        if not isinstance(root, yaml.MappingNode):
            line = root.start_mark.line + 1
            raise ConfigError(
                source, [f"{source}:{line}: the top level must be a mapping of sections (brands:, ...)"]
            )
        problems = [(line, f"{source}:{line}: {msg}") for line, msg in _duplicate_keys(root)]
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        reason = ": ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(source, [f"{where}: not valid YAML: {reason}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"{source}: not valid YAML: {exc}"]) from None
    finally:
        loader.dispose()

    try:
        cfg = SocialdeskConfig.model_validate(data)
    except ValidationError as exc:
        for loc, msg in _flatten_errors(exc):
            line = _line_of(root, loc)
            problems.append((line, f"{source}:{line}: {render_loc(loc) or '(top level)'}: {msg}"))
    else:
        if not problems:
            cfg._env = env
            return cfg
    problems.sort(key=lambda item: item[0])
    raise ConfigError(source, [text for _, text in problems])


def _flatten_errors(exc: ValidationError) -> Iterator[tuple[Location, str]]:
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(error["loc"])
        if error["type"] == CROSS_FIELD:
            ctx = error.get("ctx") or {}
            for sub_loc, msg in ctx.get("problems", []):
                yield (*loc, *sub_loc), msg
        elif error["type"] == "extra_forbidden":
            yield loc, _unknown_key_message(loc)
        else:
            yield loc, str(error["msg"]).removeprefix("Value error, ")


def _line_of(root: yaml.Node, loc: Sequence[str | int]) -> int:
    """The 1-based line of the deepest node of ``loc`` present in the file.

    A missing field is reported at its parent's line; a mapping entry at its key's line
    (where the person typed the name), not at its value's.
    """
    node: yaml.Node = root
    line = root.start_mark.line + 1
    for item in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(item):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int) and 0 <= item < len(node.value):
            node = node.value[item]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_keys(node: yaml.Node, seen_nodes: set[int] | None = None) -> Iterator[tuple[int, str]]:
    """PyYAML silently keeps the last of two equal keys; a repeated ``L3:`` is a mistake here."""
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:  # aliases point at the same node; check it once
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                line = key_node.start_mark.line + 1
                if key_node.value in first:
                    yield line, f"{key_node.value}: duplicate key (first on line {first[key_node.value]})"
                first.setdefault(key_node.value, line)
            yield from _duplicate_keys(value_node, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _duplicate_keys(child, seen_nodes)


def _unknown_key_message(loc: Sequence[str | int]) -> str:
    key = str(loc[-1])
    allowed = _fields_at(loc[:-1])
    if not allowed:
        return f"unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r}; allowed here: {', '.join(allowed)}"


def _fields_at(loc: Sequence[str | int]) -> list[str]:
    """The field names of the model found at ``loc``, to suggest a fix for a mistyped key."""
    current: Any = SocialdeskConfig
    for item in loc:
        current = _model_or_container(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(item))
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) is list:
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
    current = _model_or_container(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_or_container(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the model or container inside."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _model_or_container(inner[0]) if len(inner) == 1 else annotation
    return annotation
