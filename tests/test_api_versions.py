"""Deprecated and removed API versions: the table, the migrations (schema-valid at the target), the findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
from kubernetes_validate.utils import all_versions
import pytest
import yaml

from kharden.apiversions import table
from kharden.apiversions.migrate import hpa_metric, ingress_backend
from kharden.checks.apiversions import psa_level
from kharden.errors import UsageError
from kharden.read import parse_text
from kharden.run import fix_sources
from tests.conftest import CORPUS, corpus_files
from tests.integration_helpers import kharden

GOLDEN = Path(__file__).parent / "golden" / "apiVersions"
SCHEMA = "1.36.0"  # the target the table is current to; kubernetes-validate ships its OpenAPI schema offline
OLD = ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2", "batch/v1beta1", "policy/v1beta1",
       "networking.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1beta1", "autoscaling/v2beta1", "autoscaling/v2beta2",
       "scheduling.k8s.io/v1beta1")


def test_table_rows_have_sources_and_cover_the_issue() -> None:
    rows = table.rows()
    assert all(r.source.startswith("https://kubernetes.io/") for r in rows.values())
    assert table.NEWEST == (1, 36)
    for key, to in [(("extensions/v1beta1", "Deployment"), "apps/v1"), (("batch/v1beta1", "CronJob"), "batch/v1"),
                    (("policy/v1beta1", "PodDisruptionBudget"), "policy/v1"),
                    (("networking.k8s.io/v1beta1", "Ingress"), "networking.k8s.io/v1"),
                    (("autoscaling/v2beta1", "HorizontalPodAutoscaler"), "autoscaling/v2")]:
        assert rows[key].to == to and rows[key].migrate != "none"
    assert rows[("policy/v1beta1", "PodSecurityPolicy")].to is None
    assert all(r.removed is None or r.removed > r.deprecated for r in rows.values())


@pytest.mark.parametrize("text, want", [("1.25", (1, 25)), ("v1.30.2", (1, 30))])
def test_kube_version(text: str, want: tuple[int, int]) -> None:
    assert table.parse_version(text) == want


def test_bad_kube_version_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="1.30"):
        table.parse_version("latest")


def _validate(obj: dict[str, Any], schema: str = SCHEMA) -> str | None:
    try:
        kubernetes_validate.validate(obj, schema, strict=True)
    except kubernetes_validate.ValidationError as e:
        return str(e).split("\n")[0]
    return None


def _migrated(text: str, path: str, profile: str = "restricted") -> list[dict[str, Any]]:
    outcome = fix_sources([parse_text(text, path)], profile, generate=False)
    moved = {(c.obj.doc, c.obj.item) for c in outcome.result.changes if c.mutator == "apiVersions"}
    docs = list(yaml.safe_load_all(outcome.stream()))
    return [docs[d] if i is None else docs[d]["items"][i] for d, i in sorted(moved, key=lambda k: (k[0], k[1] or 0))]


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir()))
def test_golden_migrations_are_schema_valid_at_the_target(case: str) -> None:
    profile = GOLDEN / case / "profile.yaml"
    target = (yaml.safe_load(profile.read_text())["mutators"]["apiVersions"].get("kubeVersion") if profile.exists()
              else None) or table.show(table.NEWEST)
    schema = f"{target}.0"
    if schema not in all_versions():
        pytest.skip(f"kubernetes-validate ships no OpenAPI schema for Kubernetes {target} (the oldest it has: 1.25)")
    moved = _migrated((GOLDEN / case / "in.yaml").read_text(), "in.yaml",
                      str(profile) if profile.exists() else "restricted")
    assert moved
    for obj in moved:
        assert _validate(obj, schema) is None, (obj["kind"], _validate(obj, schema))


def _old_objects(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return any(f"apiVersion: {v}" in text for v in OLD)


def test_corpus_old_objects_are_moved_schema_valid_and_hardened() -> None:
    files = [p for p in corpus_files() if _old_objects(p)]
    if not files:
        pytest.skip(f"corpus not available: {CORPUS}")
    moved: list[dict[str, Any]] = []
    for path in files:
        moved += _migrated(path.read_text(encoding="utf-8"), str(path))
    # 32 on the corpus: 12 Ingresses, 9 Deployments, 8 CronJobs, 2 StatefulSets, 1 PodDisruptionBudget
    assert len(moved) >= 30, len(moved)
    errors = {(o["kind"], o["metadata"].get("name")): _validate(o) for o in moved}
    assert {k: e for k, e in errors.items() if e} == {}
    pods = [o for o in moved if o["kind"] in ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet")]
    assert pods and all(o["apiVersion"] == "apps/v1" and "selector" in o["spec"] for o in pods)
    hardened = [o for o in pods if o["spec"]["template"]["spec"].get("automountServiceAccountToken") is False
                or "securityContext" in o["spec"]["template"]["spec"]]
    assert len(hardened) == len(pods)  # each moved workload went through the other mutators in the same run


def test_corpus_pod_security_policies_are_reported_with_psa_labels() -> None:
    files = [p for p in corpus_files() if "kind: PodSecurityPolicy" in p.read_text(errors="replace")]
    if not files:
        pytest.skip(f"corpus not available: {CORPUS}")
    found = []
    for path in files:
        outcome = fix_sources([parse_text(path.read_text(), str(path))], "restricted", generate=False)
        found += [f for f in outcome.result.findings if f.obj and f.obj.kind == "PodSecurityPolicy"]
    assert len(found) >= 2
    assert all(f.rule == "api.removed" and "pod-security.kubernetes.io/enforce" in f.message and f.line for f in found)


@pytest.mark.parametrize("spec, level", [
    ({"privileged": True}, "privileged"),
    ({"volumes": ["*"]}, "privileged"),
    ({"runAsUser": {"rule": "RunAsAny"}, "volumes": ["configMap"]}, "baseline"),
    ({"runAsUser": {"rule": "MustRunAsNonRoot"}, "requiredDropCapabilities": ["ALL"],
      "allowPrivilegeEscalation": False, "volumes": ["configMap", "secret", "emptyDir"]}, "restricted"),
])
def test_psa_level_of_a_policy(spec: dict[str, Any], level: str) -> None:
    assert psa_level(spec) == level


def test_ingress_backend_and_hpa_metric_shapes() -> None:
    assert ingress_backend({"serviceName": "a", "servicePort": "http"}) == {
        "service": {"name": "a", "port": {"name": "http"}}}
    bucket = {"resource": {"kind": "Bucket", "name": "b"}}
    assert ingress_backend(bucket) == bucket
    assert hpa_metric({"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "1k",
                                                 "selector": {"matchLabels": {"a": "b"}}}}) == {
        "type": "Pods", "pods": {"metric": {"name": "qps", "selector": {"matchLabels": {"a": "b"}}},
                                 "target": {"type": "AverageValue", "averageValue": "1k"}}}


OLD_DEPLOYMENT = (GOLDEN / "hardened-after" / "in.yaml").read_text()


def test_kube_version_chooses_the_target() -> None:
    from kharden.profile import load_profile

    for version, moved in [("1.8", False), ("1.16", True), (None, True)]:
        prof = load_profile("restricted").with_kube_version(version)
        outcome = fix_sources([parse_text(OLD_DEPLOYMENT, "in.yaml")], prof, generate=False)
        kinds = {c.obj.kind for c in outcome.result.changes if c.mutator == "apiVersions"}
        assert ("Deployment" in kinds) is moved, version
    at_1_16 = fix_sources([parse_text(OLD_DEPLOYMENT, "in.yaml")], load_profile("restricted").with_kube_version("1.16"))
    assert not any(c.obj.kind == "CronJob" and c.mutator == "apiVersions" for c in at_1_16.result.changes)


def test_a_migration_kharden_cannot_make_is_reported_with_why() -> None:
    text = "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n" \
           "      containers: [{name: c, image: i}]\n"
    outcome = fix_sources([parse_text(text, "in.yaml")], "restricted", generate=False)
    assert not [c for c in outcome.result.changes if c.mutator == "apiVersions"]
    (f,) = [f for f in outcome.result.findings if f.rule == "api.removed"]
    assert f.status == "unfixed" and "no labels" in f.reason and f.line == 1


def test_check_sarif_and_summary(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text(OLD_DEPLOYMENT)
    done = kharden("check", "--profile", "restricted", "--format", "sarif", "old.yaml", cwd=str(tmp_path))
    assert done.returncode == 1
    results = json.loads(done.stdout)["runs"][0]["results"]
    api = [r for r in results if r["ruleId"] == "api.removed"]
    assert len(api) == 2
    assert {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in api} == {2, 16}
    older = kharden("check", "--kube-version", "1.20", "old.yaml", cwd=str(tmp_path))
    api_lines = [ln for ln in older.stdout.splitlines() if "[api." in ln]
    assert len(api_lines) == 1 and "Deployment/web" in api_lines[0]  # batch/v1beta1 is still fine in 1.20
    fixed = kharden("fix", "old.yaml", "--no-generate", cwd=str(tmp_path))
    assert "apiVersions: 3" in fixed.stderr  # two apiVersions and the Deployment's selector
    bad = kharden("fix", "--kube-version", "one", "old.yaml", cwd=str(tmp_path))
    assert bad.returncode == 2 and "--kube-version" in bad.stderr
