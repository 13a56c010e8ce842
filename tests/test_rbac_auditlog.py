"""Audit-log derivation: the exact Roles expected from tests/data/rbac/cases/audit, written out by hand, and the
errors a broken log gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kharden.errors import InputError
from kharden.generators.rbac import generator as rbac
from kharden.generators.rbac.auditlog import parse_audit_log, read_audit_log
from kharden.mutators.base import Editor
from kharden.read import parse_text

CASE = Path(__file__).parent / "data" / "rbac" / "cases" / "audit"


def generated(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str | None, str], dict[str, Any]]:
    monkeypatch.chdir(CASE)
    objects = list(parse_text((CASE / "in.yaml").read_text(), "in.yaml").objects())
    out = rbac.generate(objects, rbac.Options(), lambda o: Editor(o, "rbac", []), audit_log="audit.log")
    return {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in out.objects}


def core(resources: list[str], verbs: list[str], names: list[str] | None = None, group: str = "") -> dict[str, Any]:
    rule: dict[str, Any] = {"apiGroups": [group], "resources": resources}
    if names:
        rule["resourceNames"] = names
    rule["verbs"] = verbs
    return rule


def test_controller_role_in_its_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    role = generated(monkeypatch)[("Role", "shop", "kharden-controller")]
    assert role["rules"] == [
        core(["configmaps"], ["get"], ["controller-config"]),  # one name seen for get: kept
        core(["configmaps"], ["list", "watch"]),  # list/watch carry no name
        core(["events"], ["create"]),
        core(["pods/log", "secrets"], ["get"]),  # two names each: dropped, rules merged
        core(["deployments/scale"], ["patch"], ["web"], group="apps"),
        core(["jobs"], ["deletecollection"], group="batch"),
        core(["leases"], ["get", "update"], ["controller-leader"], group="coordination.k8s.io"),
        core(["leases"], ["create"], group="coordination.k8s.io"),  # create never by name
    ]
    sources = role["metadata"]["annotations"]["kharden.dev/rule-sources"].splitlines()
    assert sources[0] == "rules[0]: audit.log lines 1-2"  # both stages of one request
    assert sources[3] == "rules[3]: audit.log lines 5-6,11-12"
    assert role["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "kharden"}


def test_other_namespace_and_cluster_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    objs = generated(monkeypatch)
    assert objs[("Role", "other", "kharden-shop-controller")]["rules"] == [core(["configmaps"], ["list"])]
    assert objs[("ClusterRole", None, "kharden-shop-controller")]["rules"] == [
        core(["namespaces"], ["get"], ["shop"]),
        core(["nodes", "pods"], ["list"]),  # nodes: cluster-scoped; pods: listed without a namespace
    ]
    crb = objs[("ClusterRoleBinding", None, "kharden-shop-controller")]
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "controller", "namespace": "shop"}]
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                              "name": "kharden-shop-controller"}


def test_default_account_requests_follow_the_pod_to_its_workload(monkeypatch: pytest.MonkeyPatch) -> None:
    objs = generated(monkeypatch)
    assert objs[("Role", "shop", "kharden-web")]["rules"] == [core(["configmaps"], ["get"], ["web-config"])]
    assert "automountServiceAccountToken" not in objs[("ServiceAccount", "shop", "web")]  # it uses the API
    assert objs[("ServiceAccount", "shop", "cache")]["automountServiceAccountToken"] is False
    assert not any(k[0] in ("Role", "ClusterRole") and "cache" in k[2] for k in objs)


def test_nothing_granted_for_denied_nonresource_or_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = [r for o in generated(monkeypatch).values() for r in o.get("rules", [])]
    flat = {(g, res, v) for r in rules for g in r["apiGroups"] for res in r["resources"] for v in r["verbs"]}
    assert ("apps", "deployments", "delete") not in flat  # 403 in the log
    assert not any(res == "endpointslices" for _, res, _ in flat)  # coredns: not in the input
    assert not any("secrets" == res and "web" in str(r) for r in rules for res in r["resources"])


def event(**over: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a1", "stage": "ResponseComplete",
        "verb": "get", "user": {"username": "system:serviceaccount:ns:sa"},
        "objectRef": {"resource": "pods", "namespace": "ns", "name": "p"}, "responseStatus": {"code": 200},
    }
    e.update(over)
    return e


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "one JSON object"),
        (json.dumps(event(kind="Pod")), "expected an audit.k8s.io/v1 Event"),
        (json.dumps(event(apiVersion="audit.k8s.io/v1beta1")), "expected an audit.k8s.io/v1 Event"),
        (json.dumps(event(verb="")), "no verb"),
        (json.dumps(event(user={})), "no user.username"),
        (json.dumps(event(user={"username": "system:serviceaccount:only-ns"})), "malformed ServiceAccount"),
        (json.dumps(event(objectRef={"namespace": "ns"})), "objectRef without a resource"),
    ],
)
def test_bad_lines_name_file_and_line(line: str, message: str) -> None:
    text = json.dumps(event()) + "\n\n" + line + "\n"
    with pytest.raises(InputError) as e:
        parse_audit_log(text, "cluster-audit.log")
    assert (e.value.file, e.value.line) == ("cluster-audit.log", 3)
    assert message in str(e.value)


def test_stages_of_one_request_count_once() -> None:
    text = "\n".join(json.dumps(event(stage=s)) for s in ("RequestReceived", "ResponseComplete"))
    (req,) = parse_audit_log(text)
    assert req.lines == [1, 2] and req.resource == "pods" and req.group == "" and req.name == "p"


def test_subresource_group_and_forbidden() -> None:
    ref = {"resource": "deployments", "subresource": "scale", "apiGroup": "apps", "namespace": "ns", "name": "d"}
    (req,) = parse_audit_log(json.dumps(event(objectRef=ref, responseStatus={"code": 403})))
    assert (req.group, req.resource, req.forbidden) == ("apps", "deployments/scale", True)


def test_other_users_are_skipped() -> None:
    assert parse_audit_log(json.dumps(event(user={"username": "kubernetes-admin"}))) == []


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read audit log"):
        read_audit_log(str(tmp_path / "nope.log"))


def test_impersonated_requests_are_reported_not_granted(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text(json.dumps(event(impersonatedUser={"username": "alice"})) + "\n")
    objects = list(parse_text(SA_ONLY, "in.yaml").objects())
    out = rbac.generate(objects, rbac.Options(), lambda o: Editor(o, "rbac", []), audit_log=str(log))
    assert out.objects == []
    assert [f.rule for f in out.findings] == ["rbac.audit-impersonation"]
    assert "acted as alice" in out.findings[0].message


SA_ONLY = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: ns}\nautomountServiceAccountToken: false\n"
