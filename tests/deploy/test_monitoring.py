"""Prometheus, alerts, Grafana: every metric deploy/ names exists in the code, prefix and
all; the alerts cover what an SRE must hear about; every service is scraped.

promtool is used when installed (rule unit tests, dashboard queries).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from socialdesk_runtime.metrics import RuntimeMetrics
from tests.deploy.manifests import (
    DEPLOY,
    SVCS,
    compose,
    find,
)


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
