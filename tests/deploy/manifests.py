"""What deploy/ holds, read once for its tests: the five services as the manifests name
them (name, port, module, environment prefix), the Kubernetes objects and the compose file."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from socialdesk_schemas.topics import SERVICES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"


@dataclass(frozen=True)
class Svc:
    name: str
    port: int

    @property
    def snake(self) -> str:  # module suffix, metrics prefix and database name
        return self.name.replace("-", "_")

    @property
    def module(self) -> str:
        return f"socialdesk_{self.snake}"

    @property
    def env(self) -> str:
        return self.snake.upper()


PORTS = {"ingest": 8081, "classifier": 8082, "assigner": 8083, "sla-monitor": 8084, "notifier": 8085}
SVCS = [Svc(name, PORTS[name]) for name in SERVICES]
SVC_IDS = [s.name for s in SVCS]


def load_yaml_docs(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


@functools.cache
def k8s_objects() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in load_yaml_docs(path)]


def find(kind: str, name: str, objects: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    matches = [o for o in (objects or k8s_objects()) if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


@functools.cache
def compose() -> dict[str, Any]:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(doc, dict)
    return doc
