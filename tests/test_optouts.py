"""Opt-outs: kharden's skip annotations (workload and container), their findings, unneeded ones, and kubeaudit's
override labels, checked against kubeaudit's own `*allowed*` fixtures."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kharden.find import find_pod_targets
from kharden.read import parse_text
from tests.conftest import CORPUS
from tests.mutating import container, mutate, pod_spec, profile, twice

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  annotations:
    skip.kharden.dev/readOnlyRootFilesystem: "writes its cache to /var/lib/app"
spec:
  template:
    metadata:
      annotations:
        skip.kharden.dev/capabilities.proxy: "needs NET_ADMIN for iptables"
    spec:
      containers:
      - name: app
        image: app
      - name: proxy
        image: envoy
        securityContext:
          capabilities:
            add: [NET_ADMIN]
"""


def _opted(run: Any) -> list[Any]:
    return [f for f in run.findings if f.status == "opted-out"]


def _unneeded(run: Any) -> list[Any]:
    return [f for f in run.findings if f.rule == "kharden.unneeded-opt-out"]


def test_workload_opt_out_skips_the_mutator_and_is_reported_with_its_reason_and_line() -> None:
    run = twice(DEPLOY)
    assert run.paths("readOnlyRootFilesystem") == []
    [finding] = [f for f in _opted(run) if f.rule == "kharden.readOnlyRootFilesystem"]
    assert finding.reason == "writes its cache to /var/lib/app"
    assert finding.line == 6 and finding.severity == "info"
    assert finding.path == ("metadata", "annotations", "skip.kharden.dev/readOnlyRootFilesystem")


def test_container_opt_out_skips_only_that_container() -> None:
    run = twice(DEPLOY, "strict")
    assert container(run, 1)["securityContext"]["capabilities"] == {"add": ["NET_ADMIN"]}
    assert container(run, 0)["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    [finding] = [f for f in _opted(run) if f.rule == "kharden.capabilities"]
    assert finding.reason == "needs NET_ADMIN for iptables" and finding.line == 11
    assert finding.extra == {"mutator": "capabilities", "container": "proxy"}
    assert _unneeded(run) == []


def test_unneeded_opt_outs_are_warned_about() -> None:
    text = DEPLOY.replace("add: [NET_ADMIN]", "drop: [ALL]").replace(
        "skip.kharden.dev/readOnlyRootFilesystem", "skip.kharden.dev/hostPorts"
    )
    run = twice(text, "strict")
    rules = sorted(f.message.split(":")[0] for f in _unneeded(run))
    assert rules == ["skip.kharden.dev/capabilities.proxy", "skip.kharden.dev/hostPorts"]
    assert all(f.severity == "warning" for f in _unneeded(run))


def test_opt_out_naming_a_missing_container_is_warned_about() -> None:
    run = twice(DEPLOY.replace("capabilities.proxy", "capabilities.nosuch"))
    [finding] = _unneeded(run)
    assert "no container nosuch" in finding.message


def test_container_opt_out_of_a_pod_level_field_sets_the_others_per_container() -> None:
    text = DEPLOY.replace("capabilities.proxy", "runAsNonRoot.proxy")
    run = twice(text)
    spec = pod_spec(run)
    assert "runAsNonRoot" not in spec["securityContext"]
    assert spec["containers"][0]["securityContext"]["runAsNonRoot"] is True
    assert "runAsNonRoot" not in spec["containers"][1]["securityContext"]


def test_opt_out_of_a_disabled_mutator_is_silent() -> None:
    run = mutate(DEPLOY, profile("restricted", only=["privileged"]))
    assert run.findings == []


def test_namespace_opt_out() -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n"
    text += "  annotations:\n    skip.kharden.dev/namespaceLabels: legacy\n"
    run = twice(text)
    assert run.changes == [] and [f.reason for f in _opted(run)] == ["legacy"]


# -- kubeaudit override labels -------------------------------------------------------------------------------------
KUBEAUDIT = CORPUS / "kubeaudit" / "head" / "auditors"
ALLOWED = sorted(
    p for p in KUBEAUDIT.glob("*/fixtures/*.yml") if re.search(r"allowed|overriden|override", p.name)
) if KUBEAUDIT.is_dir() else []
LABEL = re.compile(
    r"^(?:container\.(?:kubeaudit\.io|audit\.kubernetes\.io)/(?P<c>[^.]+)\.|kubeaudit\.io/|audit\.kubernetes\.io/pod\.)"
    r"allow-(?P<x>.+)$"
)
SC = "securityContext"


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else (data[key] if isinstance(data, list) else None)
    return data


Paths = list[tuple[Any, ...]]


def _kept(x: str, cpaths: Paths, spec: tuple[Any, ...], meta: tuple[Any, ...], names: list[str]) -> Paths:
    """Paths whose value kubeaudit's override `allow-<x>` says must survive."""
    per_container = {
        "privileged": [(SC, "privileged")],
        "privilege-escalation": [(SC, "allowPrivilegeEscalation")],
        "run-as-root": [(SC, "runAsUser"), (SC, "runAsNonRoot")],
        "read-only-root-filesystem-false": [(SC, "readOnlyRootFilesystem")],
        "disabled-apparmor": [(SC, "appArmorProfile")],
    }.get(x, [])
    paths = [c + p for c in cpaths for p in per_container]
    if x == "run-as-root":
        paths += [spec + (SC, "runAsUser"), spec + (SC, "runAsNonRoot")]
    if x == "disabled-apparmor":
        paths += [meta + ("annotations", f"container.apparmor.security.beta.kubernetes.io/{n}") for n in names]
    if x == "automount-service-account-token":
        paths.append(spec + ("automountServiceAccountToken",))
    if x.startswith("namespace-host-"):
        paths.append(spec + ("host" + x[len("namespace-host-"):].replace("network", "Network"),))
    return paths


@pytest.mark.parametrize("fixture", ALLOWED, ids=[p.name for p in ALLOWED])
def test_kubeaudit_overrides_keep_the_flagged_setting(fixture: Path) -> None:
    text = fixture.read_text(encoding="utf-8")
    before = [o.data for o in parse_text(text, "b.yaml").objects()]
    run = twice(text, "strict")  # strict enforces: without the override every flagged value would be rewritten
    checked = 0
    for obj, (old, new) in zip(parse_text(text, "b.yaml").objects(), zip(before, run.data)):
        for target in find_pod_targets(obj):
            by_name = {str(c.get("name")): p for p, c in target.containers()}
            labels = {**(_get(old, ("metadata", "labels")) or {}), **(_get(old, target.meta_path + ("labels",)) or {})}
            for key in labels:
                m = LABEL.match(key)
                if not m:
                    continue
                names = [m["c"]] if m["c"] else list(by_name)
                cpaths = [by_name[n] for n in names if n in by_name]
                x = m["x"]
                for path in _kept(x, cpaths, target.spec_path, target.meta_path, names):
                    assert _get(new, path) == _get(old, path), f"{key}: {path} changed"
                    checked += 1
                if x.startswith("capability-"):
                    cap = x[len("capability-"):].upper().replace("-", "_")
                    for c in cpaths:
                        added = _get(old, c + (SC, "capabilities", "add")) or []
                        if cap in added:
                            assert cap in _get(new, c + (SC, "capabilities", "add")), f"{key}: {cap} removed"
                            checked += 1
    if "redundant" not in fixture.name and "netpol" not in str(fixture) and "mounts" not in str(fixture):
        assert checked, "the fixture's override protected nothing: the test would not notice a regression"
        assert any(f.status == "opted-out" for f in run.findings)


def test_kubeaudit_capability_override_keeps_only_that_capability() -> None:
    fixture = KUBEAUDIT / "capabilities/fixtures/capabilities-some-allowed-multi-containers-some-labels.yml"
    if not fixture.is_file():
        pytest.skip("corpus not available")
    run = twice(fixture.read_text(encoding="utf-8"), "strict")
    assert container(run, 0)["securityContext"]["capabilities"]["add"] == ["SYS_TIME"]
    assert "add" not in container(run, 1)["securityContext"]["capabilities"]


def test_kubeaudit_redundant_override_is_reported_as_unneeded() -> None:
    fixture = KUBEAUDIT / "privileged/fixtures/privileged-redundant-override.yml"
    if not fixture.is_file():
        pytest.skip("corpus not available")
    run = twice(fixture.read_text(encoding="utf-8"), "strict")
    assert _unneeded(run)


def test_a_misspelt_mutator_id_is_reported_once() -> None:
    run = twice(DEPLOY.replace("skip.kharden.dev/readOnlyRootFilesystem", "skip.kharden.dev/readOnlyRootFS"))
    [finding] = [f for f in run.findings if f.rule == "kharden.unknown-opt-out"]
    assert "no mutator readOnlyRootFS" in finding.message and finding.line == 6
    assert run.paths("readOnlyRootFilesystem"), "a misspelt opt-out opts out of nothing"
