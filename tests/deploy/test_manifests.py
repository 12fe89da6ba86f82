"""Static checks of deploy/: no container engine or cluster exists here, so what
`docker compose config`, `kubectl apply --dry-run` and Prometheus would catch at deploy
time is checked here, against the code's own names (services, ports, metrics, topics).

promtool and kubectl are used when installed (rule unit tests, kustomize build).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stamina
import yaml
from prometheus_client import CollectorRegistry

from socialdesk_runtime.metrics import RuntimeMetrics
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


@functools.cache
def k8s_objects() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in load_yaml_docs(path)]


def find(kind: str, name: str, objects: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    matches = [o for o in (objects or k8s_objects()) if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


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


@functools.cache
def compose() -> dict[str, Any]:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(doc, dict)
    return doc


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
    assert calls == ["kafka:9092"] * 3


# ---------------------------------------------------------------------------------------
# Prometheus, alerts, Grafana: every metric named exists in the code, prefix and all


@functools.cache
def code_metric_names() -> frozenset[str]:
    """Every series name the services can export (runtime metrics plus each service's own)."""
    names = {"up"}
    for svc in SVCS:
        registry = CollectorRegistry()
        RuntimeMetrics.create(svc.name, registry=registry)
        if importlib.util.find_spec(f"{svc.module}.metrics") is not None:
            module = importlib.import_module(f"{svc.module}.metrics")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and value.__module__ == module.__name__
                    and hasattr(value, "create")
                ):
                    value.create(registry)
        for family in registry.collect():
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(
                family.type, [""]
            )
            names.update(family.name + s for s in suffixes)
    return frozenset(names)


_LABELS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    stripped = _GROUPING.sub(" ", _RANGES.sub(" ", _LABELS.sub(" ", expr)))
    return {m for m in _IDENT.findall(stripped) if m.lower() not in _KEYWORDS}


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> Iterator[tuple[str, str]]:
    dashboard = json.loads((DEPLOY / "grafana" / "socialdesk.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def test_metric_name_extraction() -> None:
    expr = 'histogram_quantile(0.95, sum by (service, le) (rate(a_b_bucket{x="y"}[5m]) or rate(c_total[5m]))) > 5'
    assert metric_names(expr) == {"a_b_bucket", "c_total"}


def test_alert_and_dashboard_metrics_exist_in_the_code() -> None:
    known = code_metric_names()
    used = {(r["alert"], n) for r in alert_rules() for n in metric_names(r["expr"])}
    used |= {(title, n) for title, expr in dashboard_exprs() for n in metric_names(expr)}

    unknown = sorted((where, name) for where, name in used if name not in known)
    assert unknown == []
    prefixes = {s.snake for s in SVCS}
    for _where, name in used - {(w, "up") for w, _ in used}:
        assert any(name.startswith(p + "_") for p in prefixes), name
        assert "-" not in name


def test_alerts_cover_what_an_sre_must_hear_about() -> None:
    rules = alert_rules()
    text = " ".join(r["expr"] for r in rules)
    for needed in (
        "up{",
        "_deadletter_events_total",
        "_consumer_lag_events",
        "_outbox_pending_events",
        "sla_monitor_breaches_total",
        'notifier_deliveries_total{outcome="failed"}',
    ):
        assert needed in text, needed
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        families = {
            re.sub(r"^(ingest|classifier|assigner|sla_monitor|notifier)_", "", n)
            for n in metric_names(rule["expr"])
        }
        for family in families & {
            "deadletter_events_total",
            "consumer_lag_events",
            "outbox_pending_events",
            "consumer_batch_seconds_bucket",
        }:
            assert all(f"{s.snake}_{family}" in rule["expr"] for s in SVCS), (
                f"{rule['alert']} misses a service's {family}"
            )


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-k8s.yml"])
def test_prometheus_scrapes_all_five_services(config: str) -> None:
    doc = yaml.safe_load((DEPLOY / "prometheus" / config).read_text())
    (job,) = [j for j in doc["scrape_configs"] if j["job_name"] == "socialdesk"]
    assert doc["rule_files"] == ["/etc/prometheus/alerts.yml"]
    if "static_configs" in job:
        scraped = {(c["labels"]["service"], tuple(c["targets"])) for c in job["static_configs"]}
        assert scraped == {(s.name, (f"{s.name}:{s.port}",)) for s in SVCS}
    else:  # Kubernetes: every Deployment carries the labels and annotations the relabelling keeps
        kept = {
            r["source_labels"][0]: r["regex"] for r in job["relabel_configs"] if r.get("action") == "keep"
        }
        assert kept["__meta_kubernetes_pod_label_app_kubernetes_io_part_of"] == "socialdesk"
        for svc in SVCS:
            meta = find("Deployment", svc.name)["spec"]["template"]["metadata"]
            assert meta["labels"]["app.kubernetes.io/part-of"] == "socialdesk"
            assert (
                meta["annotations"]["prometheus.io/scrape"]
                == kept["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
            )


def test_compose_prometheus_mounts_the_rules_where_the_config_expects_them() -> None:
    volumes = compose()["services"]["prometheus"]["volumes"]
    assert "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in volumes


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (apt-get install prometheus)"
)
def test_promtool_checks_rules_unit_tests_and_dashboard_queries(tmp_path: Path) -> None:
    prom = DEPLOY / "prometheus"

    def promtool(*args: str) -> None:
        result = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60, cwd=prom)
        assert result.returncode == 0, result.stdout + result.stderr

    promtool("check", "rules", "alerts.yml")
    promtool("test", "rules", "alerts.test.yml")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        (prom / "prometheus.yml").read_text().replace("/etc/prometheus/alerts.yml", str(prom / "alerts.yml"))
    )
    promtool("check", "config", str(config))
    # Dashboard queries parse as PromQL (Grafana's $__rate_interval stands for a duration).
    rules = [
        {"record": f"dashboard:q{i}", "expr": e.replace("$__rate_interval", "5m")}
        for i, (_, e) in enumerate(dashboard_exprs())
    ]
    queries = tmp_path / "dashboard-queries.yml"
    queries.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    promtool("check", "rules", str(queries))
