"""Offline who-can / can-i: a table of tricky cases, each naming the authorizer rule it exercises.

The rules are those of the Kubernetes RBAC authorizer (plugin/pkg/auth/authorizer/rbac/rbac.go `RuleAllows`,
pkg/apis/rbac/v1/evaluation_helpers.go, pkg/registry/rbac/validation/rule.go `appliesToUser`/`VisitRulesFor`).
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from kharden.cli import cli
from kharden.rbac import query
from kharden.rbac.authz import parse_request, rule_allows, user_info
from kharden.read import parse_text

HERE = os.path.dirname(__file__)
TRICKY = os.path.join(HERE, "data", "cluster", "rbac-tricky.yaml")
CORPUS = os.path.join(HERE, "..", "..", "shared", "corpus", "apps")


def sources():
    with open(TRICKY, encoding="utf-8") as f:
        return [parse_text(f.read(), TRICKY)]


SA = "system:serviceaccount:"
# (user, extra groups, verb, resource, namespace, name, allowed, the authorizer rule exercised)
CASES = [
    (SA + "shop:web", (), "get", "pods", "shop", "", True,
     "appliesToUser: a RoleBinding's SA subject without namespace defaults to the binding's namespace"),
    (SA + "other:web", (), "get", "pods", "other", "", False,
     "VisitRulesFor: a RoleBinding applies in its own namespace only"),
    (SA + "shop:web", (), "get", "pods", "", "", False,
     "VisitRulesFor: a RoleBinding (even to a ClusterRole) grants nothing cluster-wide"),
    (SA + "shop:web", (), "get", "pods/log", "shop", "", True, "ResourceMatches: 'pods/log' names the subresource"),
    (SA + "shop:web", (), "get", "pods/exec", "shop", "", False, "ResourceMatches: 'pods' does not cover pods/exec"),
    (SA + "shop:web", (), "get", "configmaps", "shop", "app-config", True,
     "ResourceNameMatches: the named object"),
    (SA + "shop:web", (), "get", "configmaps", "shop", "other", False, "ResourceNameMatches: another name"),
    (SA + "shop:web", (), "list", "configmaps", "shop", "", False,
     "ResourceNameMatches: a rule with resourceNames never matches a request without a name (list)"),
    (SA + "batch:job", (), "list", "pods", "shop", "", True,
     "appliesToUser Group: every SA is in system:serviceaccounts:<its namespace>"),
    (SA + "batch:job", (), "create", "secrets", "shop", "", True,
     "APIGroup/VerbMatches '*': the Role's verbs '*' through the group system:serviceaccounts"),
    ("alice", (), "delete", "secrets", "shop", "", True, "appliesToUser User: name equality"),
    ("alice", (), "delete", "secrets", "web", "", False, "VisitRulesFor: RoleBinding namespace"),
    ("bob", (), "update", "deployments/status", "shop", "", True,
     "ResourceMatches '*/status' with apiGroups '*', through system:authenticated"),
    ("bob", (), "update", "deployments/scale", "shop", "", False, "ResourceMatches: '*/status' is not '*/scale'"),
    ("bob", (), "update", "deployments", "shop", "", False, "ResourceMatches: '*/status' is not the resource itself"),
    ("system:anonymous", (), "update", "pods/status", "", "", False,
     "system:anonymous is in system:unauthenticated, not system:authenticated"),
    ("bob", (), "get", "/metrics", "", "", True, "NonResourceURLMatches: exact URL"),
    ("bob", (), "get", "/debug/pprof/heap", "", "", True, "NonResourceURLMatches: a trailing '*' is a prefix"),
    ("bob", (), "get", "/debugger", "", "", False, "NonResourceURLMatches: '/debug/*' needs the slash"),
    ("bob", (), "post", "/metrics", "", "", False, "VerbMatches for a non-resource URL"),
    (SA + "default:no-namespace", (), "list", "nodes", "", "", False,
     "appliesToUser: an SA subject without namespace in a ClusterRoleBinding matches no one"),
    (SA + "monitoring:prometheus", (), "watch", "endpoints", "", "", True,
     "aggregationRule matchLabels: rules aggregated from a labelled ClusterRole"),
    (SA + "monitoring:prometheus", (), "get", "deployments/scale", "x", "", True,
     "aggregationRule matchExpressions In; deployments resolved to group apps"),
    (SA + "monitoring:prometheus", (), "get", "deployments.extensions/scale", "x", "", False,
     "APIGroupMatches: the rule's group apps is not extensions"),
    (SA + "monitoring:prometheus", (), "delete", "nodes", "", "", False,
     "aggregationRule: a ClusterRole whose labels match no selector is not aggregated"),
    ("ops", (), "delete", "widgets", "any", "", True, "cluster-admin (built-in default) '*' on a CRD's resource"),
    ("carol", ("system:masters",), "get", "/healthz", "", "", True,
     "the built-in cluster-admin binding to system:masters, nonResourceURLs '*'"),
    ("carol", (), "get", "pods", "shop", "", False, "no binding applies: RBAC denies by default"),
    ("dave", (), "delete", "nodes", "shop", "", False,
     "a request for a cluster-scoped resource has no namespace: a RoleBinding never grants it"),
]


@pytest.mark.parametrize("user,groups,verb,resource,ns,name,allowed,why", CASES, ids=[c[-1][:60] for c in CASES])
def test_tricky_cases(user, groups, verb, resource, ns, name, allowed, why):
    _, _, grants = query.ask_can(sources(), verb, resource, ns, name, user, groups)
    assert bool(grants) is allowed, why


def test_crd_plural_resolves_to_its_group():
    index = query.index_of(sources())
    assert parse_request("get", "widgets", index=index).group == "example.com"
    assert parse_request("get", "deployments.apps/scale").subresource == "scale"


def test_user_groups():
    assert user_info(SA + "ns:x").groups == ("system:serviceaccounts", "system:serviceaccounts:ns",
                                             "system:authenticated")
    assert user_info("system:anonymous").groups == ("system:unauthenticated",)


def test_rule_allows_empty_rule_allows_nothing():
    assert not rule_allows({}, parse_request("get", "pods"))
    assert not rule_allows({"verbs": ["*"], "apiGroups": ["*"]}, parse_request("get", "pods"))


def test_who_can_lists_each_subject_with_binding_and_rule():
    req, grants, _ = query.ask_who(sources(), "list", "pods", "shop", "", False)
    got = sorted((g.subject_name(), g.binding.ref.name, g.rule.index) for g in grants)
    assert got == [
        ("ops", "ops-admin", 0),
        ("system:masters", "cluster-admin", 0),
        ("system:serviceaccount:shop:web", "read-pods", 0),
        ("system:serviceaccounts:batch", "read-pods", 0),
    ]
    # the ClusterRoleBinding's SA without namespace is left out (it matches no one)
    _, grants, _ = query.ask_who(sources(), "update", "pods/status", "", "", False)
    assert "system:serviceaccount::no-namespace" not in {g.subject_name() for g in grants}


GOLDEN = os.path.join(HERE, "data", "cluster", "who-can-golden")


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_who_can_golden(fmt, monkeypatch):
    monkeypatch.chdir(os.path.join(HERE, ".."))
    rel = os.path.relpath(TRICKY, os.path.join(HERE, ".."))
    out = CliRunner().invoke(cli, ["who-can", "watch", "endpoints", rel, "--format", fmt]).output
    path = os.path.join(GOLDEN, f"watch-endpoints.{ {'text': 'txt', 'json': 'json', 'markdown': 'md'}[fmt] }")
    if os.environ.get("KHARDEN_REGOLD"):
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(out)
    with open(path, encoding="utf-8") as f:
        assert out == f.read()


def test_can_i_exit_codes_and_json():
    r = CliRunner().invoke(cli, ["can-i", "get", "pods", TRICKY, "--as", SA + "shop:web", "-n", "shop",
                                 "--format", "json"])
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert data["allowed"] and data["grants"][0]["binding"]["name"] == "read-pods"
    r = CliRunner().invoke(cli, ["can-i", "get", "pods", TRICKY, "--as", SA + "shop:web"])
    assert r.exit_code == 1 and r.output.startswith("no:")


ARGO = os.path.join(CORPUS, "argo-cd", "manifests", "install.yaml")
NGINX = os.path.join(CORPUS, "ingress-nginx", "deploy", "static", "provider", "cloud", "deploy.yaml")


def _corpus(path):
    if not os.path.exists(path):
        pytest.skip(f"corpus file missing: {path}")
    with open(path, encoding="utf-8") as f:
        return [parse_text(f.read(), path)]


def test_argo_cd_who_can_read_secrets_cluster_wide():
    _, grants, _ = query.ask_who(_corpus(ARGO), "get", "secrets", "", "", False)
    assert {g.subject_name() for g in grants} == {
        "system:serviceaccount:argocd:argocd-application-controller",
        "system:serviceaccount:argocd:argocd-applicationset-controller",
        "system:serviceaccount:argocd:argocd-server",
        "system:masters",
    }


def test_ingress_nginx_controller_updates_ingress_status():
    srcs = _corpus(NGINX)
    _, _, grants = query.ask_can(srcs, "update", "ingresses/status", "web", "", SA + "ingress-nginx:ingress-nginx", ())
    assert [g.binding.ref.kind for g in grants] == ["ClusterRoleBinding"]
    _, _, grants = query.ask_can(srcs, "delete", "secrets", "web", "", SA + "ingress-nginx:ingress-nginx", ())
    assert not grants  # the controller reads Secrets; it never deletes them
