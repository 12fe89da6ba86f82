"""Static checks of deploy/: no container engine or cluster exists here, so what
`docker compose config` and `kubectl apply --dry-run` would catch at deploy time is checked
here, against the code's own names (services, ports, topics). Prometheus, alerts and
Grafana are checked in test_monitoring.

kubectl is used when installed (kustomize build).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import stamina
import yaml

from socialdesk_schemas.topics import SERVICES
from tests.deploy.manifests import (
    DEPLOY,
    K8S,
    PORTS,
    ROOT,
    SVC_IDS,
    SVCS,
    Svc,
    compose,
    find,
    k8s_objects,
    load_yaml_docs,
)


def deploy_files(*suffixes: str) -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix in suffixes)


# ---------------------------------------------------------------------------------------
# every file parses


@pytest.mark.parametrize("path", deploy_files(".yaml", ".yml"), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    assert load_yaml_docs(path), f"{path} is empty"


@pytest.mark.parametrize("path", deploy_files(".json"), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_json_file_parses(path: Path) -> None:
    assert isinstance(json.loads(path.read_text()), dict)


def test_service_list_matches_the_contract() -> None:
    assert set(SERVICES) == set(PORTS), "a service was added or renamed: update deploy/ and this test"


# ---------------------------------------------------------------------------------------
# Kubernetes


def pod_containers(workload: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    spec = workload["spec"]["template"]["spec"]
    return spec, spec["containers"]


def assert_locked_down(workload: dict[str, Any]) -> None:
    pod, containers = pod_containers(workload)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod.get("automountServiceAccountToken") is False
    for c in containers:
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"]["drop"] == ["ALL"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= c["resources"][bound].keys(), f"{c['name']}: {bound}"


@pytest.mark.parametrize("svc", SVCS, ids=SVC_IDS)
def test_each_service_has_a_locked_down_deployment_with_probes(svc: Svc) -> None:
    objects = k8s_objects()
    deployment = find("Deployment", svc.name, objects)
    pod, (container,) = pod_containers(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]

    assert deployment["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": svc.name}
    assert labels["app.kubernetes.io/name"] == svc.name
    assert labels["app.kubernetes.io/part-of"] == "socialdesk"
    assert container["command"] == ["python", "-m", svc.module]
    assert importlib.util.find_spec(svc.module) is not None, f"{svc.module} is not importable"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": svc.port}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env[f"{svc.env}_HTTP_PORT"] == str(svc.port)
    assert env[f"{svc.env}_HTTP_HOST"] == "0.0.0.0", "the runtime binds 127.0.0.1 unless told otherwise"
    for probe, path in (
        ("readinessProbe", "/readyz"),
        ("livenessProbe", "/healthz"),
        ("startupProbe", "/healthz"),
    ):
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    assert_locked_down(deployment)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/etc/socialdesk"]]["configMap"]["name"] == "socialdesk-config"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(svc.port)
    assert annotations["prometheus.io/path"] == "/metrics"

    service = find("Service", svc.name, objects)
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": svc.name}
    assert service["spec"]["ports"] == [{"name": "http", "port": svc.port, "targetPort": "http"}]


@pytest.mark.parametrize("svc", SVCS, ids=SVC_IDS)
def test_each_service_gets_only_its_own_secret_with_its_database_url(svc: Svc) -> None:
    _, (container,) = pod_containers(find("Deployment", svc.name))
    secret_refs = [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s]
    secrets = {d["metadata"]["name"]: d for d in load_yaml_docs(K8S / "secret.example.yaml")}

    assert secret_refs == [f"{svc.name}-secrets"]
    data = secrets[f"{svc.name}-secrets"]["stringData"]
    url = data[f"{svc.env}_DATABASE_URL"]
    assert re.fullmatch(rf"postgresql\+asyncpg://{svc.snake}:[^@]+@[^/]+/{svc.snake}", url), url
    others = [k for k in data if k.endswith("_DATABASE_URL") and k != f"{svc.env}_DATABASE_URL"]
    assert others == []


def test_topic_job_is_locked_down_and_uses_the_registry_script() -> None:
    job = find("Job", "socialdesk-create-topics")
    _, (container,) = pod_containers(job)
    assert container["command"] == ["python", "/app/deploy/bin/create_topics.py"]
    assert_locked_down(job)


def test_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kustomization["resources"]) == manifests
    assert kustomization["namespace"] == "socialdesk"
    overlay = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    (generator,) = overlay["configMapGenerator"]
    assert generator["name"] == "socialdesk-config"
    key, _, source = generator["files"][0].partition("=")
    assert key == "socialdesk.yaml"  # SOCIALDESK_CONFIG=/etc/socialdesk/socialdesk.yaml
    assert (DEPLOY / source).is_file()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kustomize_builds_and_wires_the_generated_config_map() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    objects = [d for d in yaml.safe_load_all(built) if d]
    (config_map,) = [
        o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("socialdesk-config")
    ]
    assert "socialdesk.yaml" in config_map["data"]
    for svc in SVCS:
        deployment = find("Deployment", svc.name, objects)
        assert deployment["metadata"]["namespace"] == "socialdesk"
        volumes = deployment["spec"]["template"]["spec"]["volumes"]
        assert {"name": "config", "configMap": {"name": config_map["metadata"]["name"]}} in volumes


# ---------------------------------------------------------------------------------------
# compose, Dockerfile, database init


@pytest.mark.parametrize("svc", SVCS, ids=SVC_IDS)
def test_compose_service_command_env_healthcheck(svc: Svc) -> None:
    service = compose()["services"][svc.name]
    env = service["environment"]

    assert service["command"] == ["python", "-m", svc.module]
    assert env[f"{svc.env}_HTTP_PORT"] == str(svc.port)
    assert env[f"{svc.env}_HTTP_HOST"] == "0.0.0.0"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert re.fullmatch(
        rf"postgresql\+asyncpg://{svc.snake}:\$\{{SOCIALDESK_DB_PASSWORD:-\w+\}}@postgres:5432/{svc.snake}",
        env[f"{svc.env}_DATABASE_URL"],
    )
    assert service["healthcheck"]["test"] == [
        "CMD",
        "python",
        "/app/deploy/bin/healthcheck.py",
        str(svc.port),
        "/readyz",
    ]
    assert service["depends_on"]["kafka-init"] == {"condition": "service_completed_successfully"}
    assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert service["read_only"] is True


def test_compose_runs_kraft_kafka_and_postgres_17_and_mounts_existing_files() -> None:
    doc = compose()
    kafka, postgres = doc["services"]["kafka"], doc["services"]["postgres"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert not any("ZOOKEEPER" in k for k in kafka["environment"])
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert postgres["image"] == "postgres:17"
    assert doc["services"]["kafka-init"]["command"] == ["python", "/app/deploy/bin/create_topics.py"]
    for name, service in doc["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"


def test_database_init_creates_exactly_the_service_databases() -> None:
    (script,) = (DEPLOY / "postgres" / "initdb").glob("*.sh")
    match = re.search(r"^for db in ([\w ]+); do", script.read_text(), re.MULTILINE)
    assert match is not None
    assert match[1].split() == [s.snake for s in SVCS]


def test_dockerfile_is_multistage_non_root_with_every_source_root() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    roots_match = re.search(r"^SRC_ROOTS := (.+)$", makefile, re.MULTILINE)
    assert roots_match is not None
    roots = roots_match[1].split()

    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2
    assert "pip install --only-binary=:all: -r /tmp/requirements.lock" in text
    (user,) = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0"
    pythonpath = re.search(r"PYTHONPATH=(\S+)", text)
    assert pythonpath is not None
    assert pythonpath[1].split(":") == [f"/app/{r}" for r in roots]
    for root in roots:
        assert f"COPY {root}/ {root}/" in text


async def test_create_topics_script_waits_for_the_broker_then_uses_the_runtime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sys.path.insert(0, str(DEPLOY / "bin"))
    try:
        script = importlib.import_module("create_topics")
    finally:
        sys.path.remove(str(DEPLOY / "bin"))
    calls: list[str] = []

    async def flaky_create_topics(bootstrap: str) -> None:
        calls.append(bootstrap)
        if len(calls) < 3:
            raise ConnectionError("broker not up yet")

    monkeypatch.setattr(script, "create_topics", flaky_create_topics)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert await script.main() == 2
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    with stamina.set_testing(True, attempts=5):
        assert await script.main() == 0
