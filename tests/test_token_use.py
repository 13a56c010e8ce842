"""Never cut a token that is used: kharden.know.api_use, read by the token mutator and both generators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kharden.find import find_pod_targets
from kharden.generators.rbac.auditlog import parse_audit_log
from kharden.know import api_use
from kharden.read import parse_text
from kharden.run import fix_sources
from tests.conftest import CORPUS

RBAC_CASES = Path(__file__).parent / "data" / "rbac" / "cases"

WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop%s}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: %s
      containers: [{name: web, image: nginx:1.27}]%s
"""


def binding(kind: str, subject: dict[str, Any], namespace: str | None = "shop") -> str:
    meta = {"name": "b", **({"namespace": namespace} if namespace else {})}
    return yaml.safe_dump({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta,
                           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                           "subjects": [subject]})


def reasons(text: str, **kw: Any) -> list[str]:
    objects = list(parse_text(text, "in.yaml").objects())
    use = api_use.learn(objects, **kw)
    (target,) = [t for o in objects for t in find_pod_targets(o)]
    return use.of(target)


def workload(account: str = "app", annotations: str = "", tail: str = "") -> str:
    return WORKLOAD % (annotations, account, tail)


@pytest.mark.parametrize("kind, subject, namespace, used", [
    ("RoleBinding", {"kind": "ServiceAccount", "name": "app"}, "shop", True),  # namespace from the binding
    ("RoleBinding", {"kind": "ServiceAccount", "name": "app", "namespace": "other"}, "shop", False),
    ("RoleBinding", {"kind": "ServiceAccount", "name": "another"}, "shop", False),
    ("ClusterRoleBinding", {"kind": "ServiceAccount", "name": "app", "namespace": "shop"}, None, True),
    ("ClusterRoleBinding", {"kind": "User", "name": "system:serviceaccount:shop:app"}, None, True),
    ("ClusterRoleBinding", {"kind": "User", "name": "system:serviceaccount:other:app"}, None, False),
    ("ClusterRoleBinding", {"kind": "Group", "name": "system:serviceaccounts"}, None, True),
    ("RoleBinding", {"kind": "Group", "name": "system:serviceaccounts:shop"}, "shop", True),
    ("RoleBinding", {"kind": "Group", "name": "system:serviceaccounts:other"}, "other", False),
    ("ClusterRoleBinding", {"kind": "Group", "name": "system:authenticated"}, None, False),
])
def test_a_binding_of_the_account_keeps_the_token(kind: str, subject: dict[str, Any], namespace: str | None,
                                                   used: bool) -> None:
    got = reasons(workload() + "---\n" + binding(kind, subject, namespace))
    assert bool(got) is used, got
    if used:
        assert "RoleBinding/" in got[0] or "ClusterRoleBinding/" in got[0]


def test_the_default_account_counts_when_the_pod_names_none() -> None:
    text = workload().replace("      serviceAccountName: app\n", "")
    assert reasons(text + "---\n" + binding("RoleBinding", {"kind": "ServiceAccount", "name": "default"}))
    assert not reasons(text + "---\n" + binding("RoleBinding", {"kind": "ServiceAccount", "name": "app"}))


def test_declared_access_logged_calls_and_an_own_projected_token() -> None:
    assert reasons(workload(annotations=", annotations: {kharden.dev/access: 'get configmaps'}")) == [
        "it declares kharden.dev/access"]
    projected = "\n      volumes: [{name: tok, projected: {sources: [{serviceAccountToken: {path: token}}]}}]"
    assert reasons(workload(tail=projected)) == [
        "it mounts a projected service-account token itself (volume tok)"]
    log = parse_audit_log(json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "1", "stage": "ResponseComplete",
        "verb": "list", "user": {"username": "system:serviceaccount:shop:app"},
        "objectRef": {"resource": "pods", "namespace": "shop", "apiVersion": "v1"}}))
    assert reasons(workload(), requests=log, audit_log="audit.log") == [
        "audit.log shows ServiceAccount app calling the API"]
    assert reasons(workload("other"), requests=log) == []
    assert reasons(workload()) == []  # nothing shows it using the API


def fix(text: str, profile: str = "restricted", **kw: Any):  # type: ignore[no-untyped-def]
    return fix_sources([parse_text(text, "in.yaml")], profile, **kw)


def automount_of_pod(outcome: Any) -> Any:
    docs = list(yaml.safe_load_all(outcome.stream()))
    return [d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"].get(
        "automountServiceAccountToken")


def test_access_annotation_keeps_the_token_with_no_warning_about_kharden_own_edit() -> None:
    text = workload("default", ", annotations: {kharden.dev/access: 'get,list,watch configmaps'}")
    outcome = fix(text)
    assert automount_of_pod(outcome) is None
    rules = [f.rule for f in outcome.result.findings]
    assert "rbac.token-disabled" not in rules and "kharden.token-kept" in rules
    kinds = {g["kind"]: g for g in outcome.result.generated}
    assert {"ServiceAccount", "Role", "RoleBinding"} <= set(kinds)
    assert "automountServiceAccountToken" not in kinds["ServiceAccount"]  # the generated account keeps it too


def test_unused_token_is_still_turned_off() -> None:
    assert automount_of_pod(fix(workload())) is False


def test_audit_log_keeps_the_tokens_it_shows_in_use() -> None:
    case = RBAC_CASES / "audit"
    outcome = fix((case / "in.yaml").read_text(), audit_log=str(case / "audit.log"))
    cut = {c.obj.name for c in outcome.result.changes if c.path[-1] == "automountServiceAccountToken"}
    assert cut == {"cache"}  # controller and web call the API in the log; cache does not
    assert "rbac.token-disabled" not in {f.rule for f in outcome.result.findings}


def test_strict_does_not_cut_a_bound_explicit_true() -> None:
    text = workload(tail="\n      automountServiceAccountToken: true")
    bound = text + "---\n" + binding("RoleBinding", {"kind": "ServiceAccount", "name": "app"})
    assert automount_of_pod(fix(bound, "strict")) is True
    assert automount_of_pod(fix(text, "strict")) is False  # nothing uses it: enforced


def test_api_server_egress_names_the_reason(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("extends: restricted\ngenerators:\n  networkPolicies:\n"
                       "    apiServerCIDR: 10.0.0.1/32\n    apiServerPorts: [6443]\n")
    text = workload() + "---\n" + binding("RoleBinding", {"kind": "ServiceAccount", "name": "app"})
    egress = [g for g in fix(text, str(profile)).result.generated if g["metadata"]["name"] == "web-egress"]
    (policy,) = egress
    rule = policy["spec"]["egress"][-1]
    assert rule == {"to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}], "ports": [{"protocol": "TCP", "port": 6443}]}
    assert "ServiceAccount app is bound by RoleBinding/shop/b" in policy["metadata"]["annotations"]["kharden.dev/why"]
    warned = [f for f in fix(text).result.findings if f.rule == "netpol.apiserver-cidr"]
    assert warned and "generators.networkPolicies.apiServerCIDR" in warned[0].message


def test_argo_cd_only_the_unbound_repo_server_account_loses_its_token() -> None:
    path = CORPUS / "apps/argo-cd/manifests/install.yaml"
    if not path.exists():
        pytest.skip(f"corpus not available: {path}")
    outcome = fix_sources([parse_text(path.read_text(), str(path))], "restricted")
    cut = {c.obj.label() for c in outcome.result.changes if c.path[-1] == "automountServiceAccountToken"}
    assert cut == {"ServiceAccount/argocd-repo-server"}  # its pod says false itself; bound by nothing
    kept = [f.obj.label() for f in outcome.result.findings if f.rule == "kharden.token-kept"]
    assert len(kept) == 6 and "StatefulSet/argocd-application-controller" in kept


def _bound_accounts(docs: list[dict[str, Any]]) -> set[str]:
    """ServiceAccount names the corpus file's bindings name, read here without kharden."""
    return {s["name"] for d in docs if d and d.get("kind") in ("RoleBinding", "ClusterRoleBinding")
            for s in d.get("subjects") or [] if s.get("kind") == "ServiceAccount"}


@pytest.mark.parametrize("rel, least", [
    ("apps/argo-cd/manifests/install.yaml", 6),
    ("apps/ingress-nginx/deploy/static/provider/cloud/deploy.yaml", 1),
    ("apps/kubernetes-examples/AI/vllm-deployment/hpa/prometheus-adapter.yaml", 1),
])
def test_corpus_no_bound_controller_loses_its_token(rel: str, least: int) -> None:
    path = CORPUS / rel
    if not path.exists():
        pytest.skip(f"corpus not available: {path}")
    text = path.read_text()
    bound = _bound_accounts(list(yaml.load_all(text, Loader=yaml.CSafeLoader)))  # libyaml: 1.9 MB of argo-cd
    outcome = fix_sources([parse_text(text, str(path))], "restricted")
    out = [d for d in yaml.load_all(outcome.stream(), Loader=yaml.CSafeLoader) if d]
    workloads = [d for d in out if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet")]
    kept = [d for d in workloads if d["spec"]["template"]["spec"].get("serviceAccountName") in bound]
    assert len(kept) >= least  # argo-cd: application controller, server, applicationset, notifications, dex, redis
    for d in kept:
        assert d["spec"]["template"]["spec"].get("automountServiceAccountToken") is not False, d["metadata"]["name"]
    cut = [d for d in workloads if d["spec"]["template"]["spec"].get("automountServiceAccountToken") is False]
    assert all(d["spec"]["template"]["spec"].get("serviceAccountName") not in bound for d in cut)


def test_a_binding_in_another_file_counts(tmp_path: Path) -> None:
    from kharden import run

    (tmp_path / "a-deploy.yaml").write_text(workload())
    (tmp_path / "b-rbac.yaml").write_text(binding("RoleBinding", {"kind": "ServiceAccount", "name": "app"}))
    (tmp_path / "p.yaml").write_text("extends: restricted\n"
                                     "generators:\n  networkPolicies: {apiServerCIDR: 10.0.0.1/32}\n")
    files = [str(tmp_path / "a-deploy.yaml"), str(tmp_path / "b-rbac.yaml")]
    profile = str(tmp_path / "p.yaml")
    fixed = run.fix(files, profile)
    assert automount_of_pod(fixed) is None
    assert "is bound by RoleBinding/shop/b" in fixed.stream()  # the API-server egress rule's why
    checked, _ = run.check(files, pss=None, profile="restricted")
    assert not any(f.rule == "kharden.automountServiceAccountToken" for f in checked)
    alone, _ = run.check(files[:1], pss=None, profile="restricted")
    assert any(f.rule == "kharden.automountServiceAccountToken" for f in alone)  # without the binding: cut
