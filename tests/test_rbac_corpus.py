"""The rbac generator over real installs: what it must change there, and what it must leave alone."""

from __future__ import annotations

from typing import Any

import pytest

from kharden.generators.rbac import generator as rbac
from kharden.model import Change
from kharden.mutators.base import Editor
from kharden.read import parse_text
from tests.conftest import CORPUS


def generate(rel: str) -> tuple[list[dict[str, Any]], list[Change]]:
    path = CORPUS / rel
    if not path.exists():
        pytest.skip(f"corpus not available: {path}")
    changes: list[Change] = []
    objects = list(parse_text(path.read_text(), str(path)).objects())
    out = rbac.generate(objects, rbac.Options(), lambda o: Editor(o, "rbac", changes))
    return out.objects, changes


def test_argo_cd_only_the_unbound_repo_server_loses_its_token() -> None:
    objects, changes = generate("apps/argo-cd/manifests/install.yaml")
    assert objects == []  # every workload has its own ServiceAccount; no access declared
    assert [(c.obj.label(), c.op, c.path, c.new) for c in changes] == [
        ("ServiceAccount/argocd-repo-server", "add", ("automountServiceAccountToken",), False)
    ]  # the other six are bound by the install's RoleBindings: they need their tokens


@pytest.mark.parametrize("provider", ["cloud", "baremetal"])
def test_ingress_nginx_is_left_alone(provider: str) -> None:
    objects, changes = generate(f"apps/ingress-nginx/deploy/static/provider/{provider}/deploy.yaml")
    assert objects == [] and changes == []


ASAT = "kubeaudit/head/auditors/asat/fixtures/"


@pytest.mark.parametrize(
    "fixture, op, token_kept",
    [
        ("service-account-token-nil-and-no-name.yml", "add", False),
        ("service-account-token-true-and-default-name.yml", "replace", True),  # serviceAccountName: default
        ("service-account-token-true-and-no-name.yml", "add", True),  # the pod asks for its token
    ],
)
def test_kubeaudit_default_account_fixtures(fixture: str, op: str, token_kept: bool) -> None:
    objects, changes = generate(ASAT + fixture)
    assert [(c.op, c.path[-1], c.new) for c in changes] == [(op, "serviceAccountName", "replicationcontroller")]
    (sa,) = objects
    assert sa["kind"] == "ServiceAccount" and sa["metadata"]["name"] == "replicationcontroller"
    assert ("automountServiceAccountToken" not in sa) is token_kept


def test_kubeaudit_named_account_is_left_alone() -> None:
    assert generate(ASAT + "service-account-token-deprecated.yml") == ([], [])
