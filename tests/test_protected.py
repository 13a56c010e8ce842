"""Protected namespaces: kube-system and friends get no edits and no generated objects, only a report."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kharden.errors import KhardenError, ProfileError
from kharden.profile import load_profile
from kharden.read import parse_text
from kharden.run import fix_sources
from tests.conftest import CORPUS

INPUT = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: kube-system}
data: {a: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      containers: [{name: coredns, image: coredns/coredns:1.11.1}]
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
"""


def fix(text: str, profile: str = "restricted"):  # type: ignore[no-untyped-def]
    return fix_sources([parse_text(text, "in.yaml")], profile)


def test_one_configmap_in_kube_system_makes_no_default_deny_there() -> None:
    outcome = fix(INPUT.split("---\n")[0])
    assert [g for g in outcome.result.generated if g["metadata"].get("namespace") == "kube-system"] == []
    notes = [f.message for f in outcome.result.findings if f.rule == "kharden.protected-namespace"]
    assert any("NetworkPolicy/kube-system/default-deny" in n for n in notes)


def test_workloads_there_are_byte_identical_and_reported() -> None:
    outcome = fix(INPUT)
    docs = outcome.stream().split("---\n")
    assert "".join(docs[:3]) == "".join(INPUT.split("---\n")[:3])  # ConfigMap, coredns, Namespace untouched
    assert {c.obj.name for c in outcome.result.changes} == {"web"}
    notes = [f for f in outcome.result.findings if f.rule == "kharden.protected-namespace"]
    about = {(f.obj.name if f.obj else None, f.extra.get("mutator")) for f in notes}
    assert ("coredns", "runAsNonRoot") in about and ("coredns", "rbac") in about  # serviceAccountName not set
    assert all(f.severity == "info" for f in notes)
    assert not [g for g in outcome.result.generated if g["metadata"].get("namespace") == "kube-system"]
    assert any(g["metadata"].get("namespace") == "app" for g in outcome.result.generated)  # others as before
    unfixed = [f for f in outcome.result.findings if f.status == "unfixed" and f.obj and f.obj.name == "coredns"]
    assert unfixed and all("protected namespace" in f.reason for f in unfixed)
    again = fix(outcome.stream())
    assert again.result.changes == []


def test_the_list_is_a_profile_option(tmp_path: Path) -> None:
    (tmp_path / "none.yaml").write_text("extends: restricted\nprotectedNamespaces: []\n")
    (tmp_path / "more.yaml").write_text("extends: restricted\nprotectedNamespaces: [kube-system, app]\n")
    assert load_profile("restricted").protected_namespaces == ("kube-system", "kube-public", "kube-node-lease")
    assert {c.obj.name for c in fix(INPUT, str(tmp_path / "none.yaml")).result.changes} == {"coredns", "web"}
    assert fix(INPUT, str(tmp_path / "more.yaml")).result.changes == []
    (tmp_path / "bad.yaml").write_text("protectedNamespaces: kube-system\n")
    with pytest.raises(ProfileError, match="protectedNamespaces"):
        load_profile(str(tmp_path / "bad.yaml"))


def test_check_reports_notes_not_fixable_violations_there() -> None:
    from kharden.pipeline import Request, run

    findings = run(Request([parse_text(INPUT, "in.yaml")], load_profile("restricted"), mode="check")).findings
    fixable = {f.obj.name for f in findings if f.status == "fixable"}
    assert fixable == {"web"}
    assert any(f.rule == "kharden.protected-namespace" and f.obj.name == "coredns" for f in findings)


def test_corpus_no_default_deny_in_protected_namespaces() -> None:
    """Every corpus file that names a protected namespace: nothing generated there, no edit of its objects."""
    files = [p for p in sorted((CORPUS / "apps").rglob("*.yaml")) if "namespace: kube-system" in p.read_text("latin-1")]
    if not files:
        pytest.skip(f"corpus not available: {CORPUS}")
    edited = 0
    for path in files:
        try:
            outcome = fix_sources([parse_text(path.read_text(), str(path))], "restricted")
        except KhardenError:  # a file kharden refuses is not this test's business
            continue
        assert not [g for g in outcome.result.generated if g["metadata"].get("namespace") in
                    ("kube-system", "kube-public", "kube-node-lease")], path
        assert not [c for c in outcome.result.changes if c.obj.namespace == "kube-system"], path
        edited += 1
    assert edited >= 2  # argo-cd gitops-engine testdata, the vLLM prometheus-adapter


def test_an_old_api_version_there_is_reported_not_moved() -> None:
    text = INPUT.split("---\n")[1].replace("apiVersion: apps/v1", "apiVersion: extensions/v1beta1")
    outcome = fix(text)
    assert outcome.result.changes == []
    (f,) = [f for f in outcome.result.findings if f.rule == "api.removed"]
    assert f.status == "unfixed" and "protected namespace" in f.reason
    assert any(n.rule == "kharden.protected-namespace" and n.extra["mutator"] == "apiVersions"
               for n in outcome.result.findings)
