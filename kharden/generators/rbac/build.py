"""Build the RBAC objects the rbac generator emits: ServiceAccounts, Roles, ClusterRoles and their bindings.

Every object carries `app.kubernetes.io/managed-by: kharden`. Roles and ClusterRoles carry
`kharden.dev/rule-sources`, one line per rule saying where it came from (`rules[0]: audit.log lines 3-5`).
Names are deterministic: `kharden-<sa>` for a Role in the ServiceAccount's own namespace (or when the namespace is
not known), `kharden-<sa-namespace>-<sa>` for a Role in another namespace and for cluster-wide objects, so two
ServiceAccounts of the same name in different namespaces never share a ClusterRole.
"""

from __future__ import annotations

from typing import Any

from kharden.generators.base import MANAGED_BY
from kharden.generators.rbac.rules import Rule

RBAC_API = "rbac.authorization.k8s.io/v1"
SOURCES_KEY = "kharden.dev/rule-sources"
REASON_KEY = "kharden.dev/reason"

# (group, resource) of the cluster-scoped resources a workload commonly touches. A logged request for anything
# else without objectRef.namespace is also treated as cluster-wide (that is what the request was).
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "nodes"),
        ("", "namespaces"),
        ("", "persistentvolumes"),
        ("", "componentstatuses"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("apiregistration.k8s.io", "apiservices"),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
        ("storage.k8s.io", "storageclasses"),
        ("storage.k8s.io", "csidrivers"),
        ("storage.k8s.io", "csinodes"),
        ("storage.k8s.io", "volumeattachments"),
        ("networking.k8s.io", "ingressclasses"),
        ("node.k8s.io", "runtimeclasses"),
        ("scheduling.k8s.io", "priorityclasses"),
        ("certificates.k8s.io", "certificatesigningrequests"),
        ("authentication.k8s.io", "tokenreviews"),
        ("authorization.k8s.io", "subjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
        ("flowcontrol.apiserver.k8s.io", "flowschemas"),
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),
    }
)


def cluster_scoped(group: str, resource: str) -> bool:
    """Whether group/resource (subresource ignored) is a known cluster-scoped resource."""
    return (group, resource.split("/")[0]) in CLUSTER_SCOPED


def metadata(name: str, namespace: str | None, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(MANAGED_BY)
    if annotations:
        meta["annotations"] = annotations
    return meta


def service_account(name: str, namespace: str | None, automount: bool, reason: str) -> dict[str, Any]:
    sa: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(name, namespace, {REASON_KEY: reason}),
    }
    if not automount:
        sa["automountServiceAccountToken"] = False
    return sa


def role_name(sa_name: str, sa_namespace: str | None, namespace: str | None, cluster: bool) -> str:
    if not cluster and (namespace == sa_namespace or sa_namespace is None):
        return f"kharden-{sa_name}"
    return f"kharden-{sa_namespace}-{sa_name}"


def role(name: str, namespace: str | None, rules: list[Rule], cluster: bool) -> dict[str, Any]:
    sources = "\n".join(f"rules[{i}]: {r.source_text()}" for i, r in enumerate(rules))
    return {
        "apiVersion": RBAC_API,
        "kind": "ClusterRole" if cluster else "Role",
        "metadata": metadata(name, None if cluster else namespace, {SOURCES_KEY: sources}),
        "rules": [r.as_dict() for r in rules],
    }


def binding(
    name: str, namespace: str | None, sa_name: str, sa_namespace: str | None, cluster: bool
) -> dict[str, Any]:
    subject: dict[str, Any] = {"kind": "ServiceAccount", "name": sa_name}
    if sa_namespace:
        subject["namespace"] = sa_namespace
    return {
        "apiVersion": RBAC_API,
        "kind": "ClusterRoleBinding" if cluster else "RoleBinding",
        "metadata": metadata(name, None if cluster else namespace),
        "roleRef": {"apiGroup": RBAC_API.split("/")[0], "kind": "ClusterRole" if cluster else "Role", "name": name},
        "subjects": [subject],
    }
