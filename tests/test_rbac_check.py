"""Risky RBAC: one case per rule (and what must stay quiet), then known findings in real installs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kharden.checks.rbac import check_rbac
from kharden.model import Finding
from kharden.read import parse_text
from tests.conftest import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT / "apps"
ARGO = CORPUS / "argo-cd" / "manifests" / "install.yaml"
NGINX = CORPUS / "ingress-nginx" / "deploy" / "static" / "provider" / "cloud" / "deploy.yaml"


def check(text: str) -> list[Finding]:
    return check_rbac(list(parse_text(text, "rbac.yaml").objects()))


def role(rule: str, kind: str = "ClusterRole") -> str:
    return f"apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: r\nrules:\n{rule}"


def summary(findings: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.rule, f.severity, f.line) for f in findings]


@pytest.mark.parametrize(
    "rule, expected",
    [
        ("- apiGroups: ['']\n  resources: [pods]\n  verbs: ['*']\n", [("rbac.wildcard-verb", "error", 8)]),
        ("- apiGroups: ['']\n  resources: ['*']\n  verbs: [get]\n", [("rbac.wildcard-resource", "error", 7)]),
        ("- apiGroups: ['*']\n  resources: ['*/finalizers']\n  verbs: [update]\n",
         [("rbac.wildcard-apigroup", "warning", 6), ("rbac.wildcard-resource", "warning", 7)]),
        ("- nonResourceURLs: ['/metrics', '/debug/*']\n  verbs: [get]\n",
         [("rbac.wildcard-nonresource", "warning", 6)]),
        ("- apiGroups: [rbac.authorization.k8s.io]\n  resources: [clusterroles]\n  verbs: [get, escalate, bind]\n",
         [("rbac.bind", "error", 8), ("rbac.escalate", "error", 8)]),
        ("- apiGroups: ['']\n  resources: [users, serviceaccounts]\n  verbs:\n  - impersonate\n",
         [("rbac.impersonate", "error", 9)]),
        ("- apiGroups: ['']\n  resources: [configmaps, secrets]\n  verbs: [list]\n",
         [("rbac.secrets-read", "warning", 7)]),
        ("- apiGroups: ['']\n  resources: [secrets]\n  resourceNames: [tls]\n  verbs: [get]\n",
         [("rbac.secrets-read", "info", 7)]),
        ("- apiGroups: ['']\n  resources:\n  - pods\n  - pods/exec\n  verbs: [create]\n",
         [("rbac.pods-exec", "error", 9)]),
        ("- apiGroups: ['']\n  resources: [pods/attach]\n  verbs: [get]\n", [("rbac.pods-exec", "error", 7)]),
        ("- apiGroups: ['']\n  resources: [nodes/proxy]\n  verbs: [get]\n", [("rbac.nodes-proxy", "error", 7)]),
        ("- apiGroups: ['']\n  resources: [serviceaccounts/token]\n  verbs: [create]\n",
         [("rbac.serviceaccount-token", "error", 7)]),
    ],
)
def test_each_rule(rule: str, expected: list[tuple[str, str, int]]) -> None:
    assert summary(check(role(rule))) == expected


@pytest.mark.parametrize(
    "rule",
    [
        "- apiGroups: ['']\n  resources: [configmaps, pods, pods/log]\n  verbs: [get, list, watch]\n",
        "- apiGroups: ['']\n  resources: [secrets]\n  verbs: [create, delete]\n",  # writes, does not read
        "- apiGroups: ['']\n  resources: [pods/exec]\n  verbs: [list]\n",
        "- apiGroups: ['']\n  resources: [serviceaccounts/token]\n  verbs: [get]\n",
        "- apiGroups: [example.com]\n  resources: [secrets]\n  verbs: [get]\n",  # a CRD named secrets
        "- apiGroups: ['']\n  resources: [nodes]\n  verbs: [get, list]\n",
    ],
)
def test_quiet_rules(rule: str) -> None:
    assert check(role(rule, "Role")) == []


BINDINGS = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: User, name: alice}
  - {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: admin-here, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: Group, name: "system:serviceaccounts:team"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
  - {kind: ServiceAccount, name: dash, namespace: mon}
"""


def test_cluster_admin_bound_to_service_accounts() -> None:
    found = check(BINDINGS)
    assert summary(found) == [("rbac.cluster-admin-binding", "error", 7), ("rbac.cluster-admin-binding", "error", 14)]
    assert found[0].path == ("subjects", 1)
    assert "ci/deployer" in found[0].message and "whole cluster" in found[0].message
    assert "system:serviceaccounts:team" in found[1].message and "namespace team" in found[1].message


LIST = """\
apiVersion: v1
kind: List
items:
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: r}
    rules:
      - apiGroups: [""]
        resources: ["*"]
        verbs: [get]
"""


def test_items_of_a_list_point_into_the_list() -> None:
    (f,) = check(LIST)
    assert f.obj is not None and f.obj.item == 0
    assert (f.path, f.line) == (("rules", 0, "resources", 0), 9)


def corpus(path: Path) -> list[Finding]:
    if not path.exists():
        pytest.skip(f"corpus not available: {path}")
    return check_rbac(list(parse_text(path.read_text(), str(path)).objects()))


def test_argo_cd_install() -> None:
    found = corpus(ARGO)
    controller = [f for f in found if f.obj and f.obj.label() == "ClusterRole/argocd-application-controller"]
    assert summary(controller) == [
        ("rbac.wildcard-apigroup", "warning", 31476),
        ("rbac.wildcard-resource", "error", 31478),
        ("rbac.wildcard-verb", "error", 31480),
        ("rbac.wildcard-nonresource", "warning", 31482),
        ("rbac.wildcard-verb", "error", 31484),
    ]
    server = {(f.rule, f.path) for f in found if f.obj and f.obj.label() == "ClusterRole/argocd-server"}
    assert ("rbac.wildcard-resource", ("rules", 1, "resources", 0)) in server  # '*/finalizers'
    # Secrets are read by five Roles; the redis Role reads only its named Secret: noted, not warned
    reads = {f.obj.label(): f.severity for f in found if f.obj and f.rule == "rbac.secrets-read"}
    assert reads["Role/argocd-redis"] == "info" and reads["Role/argocd-server"] == "warning"
    assert not any(f.rule == "rbac.cluster-admin-binding" for f in found)


def test_ingress_nginx_deploy() -> None:
    found = corpus(NGINX)
    assert summary(found) == [
        ("rbac.secrets-read", "warning", 58),
        ("rbac.secrets-read", "warning", 140),
        ("rbac.secrets-read", "warning", 162),
    ]
    assert [f.obj.label() for f in found if f.obj] == [
        "Role/ingress-nginx/ingress-nginx",
        "Role/ingress-nginx/ingress-nginx-admission",
        "ClusterRole/ingress-nginx",
    ]
