"""The RBAC authorizer, offline: does a rule allow a request, which bindings apply to a user, who can do what.

Semantics learnt from kubernetes/kubernetes (cited, not copied):
  * plugin/pkg/auth/authorizer/rbac/rbac.go `RuleAllows`: a resource request is allowed by a rule when verb,
    API group, resource (with its subresource as "res/sub") and resource name all match; a non-resource request
    when verb and URL match;
  * pkg/apis/rbac/v1/evaluation_helpers.go: "*" matches every verb, group and resource; "*/sub" matches that
    subresource of any resource; empty `resourceNames` matches every name (and a named rule never matches a
    request without a name, e.g. list); a non-resource URL ending in "*" is a prefix;
  * pkg/registry/rbac/validation/rule.go `appliesToUser`: User subjects match the user name, Group subjects any of
    the user's groups, ServiceAccount subjects "system:serviceaccount:<ns>:<name>" where <ns> defaults to the
    RoleBinding's namespace (in a ClusterRoleBinding an SA without a namespace matches no one);
  * the groups an authenticated user carries (staging/src/k8s.io/apiserver/pkg/authentication): every
    ServiceAccount is in system:serviceaccounts and system:serviceaccounts:<ns>; every authenticated user in
    system:authenticated; system:anonymous in system:unauthenticated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.rbac.objects import Index, Rule
from kharden.read import KObject

SA_PREFIX = "system:serviceaccount:"

# Resources of the common built-in groups, so `who-can create deployments` means apps/deployments as kubectl's
# discovery would resolve it. Anything else is the core group unless a CRD in the input or ".group" says otherwise.
GROUPS = {
    "apps": ("deployments", "daemonsets", "statefulsets", "replicasets", "controllerrevisions"),
    "batch": ("jobs", "cronjobs"),
    "networking.k8s.io": ("ingresses", "networkpolicies", "ingressclasses"),
    "rbac.authorization.k8s.io": ("roles", "rolebindings", "clusterroles", "clusterrolebindings"),
    "policy": ("poddisruptionbudgets",),
    "autoscaling": ("horizontalpodautoscalers",),
    "apiextensions.k8s.io": ("customresourcedefinitions",),
    "admissionregistration.k8s.io": ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"),
    "certificates.k8s.io": ("certificatesigningrequests",),
    "coordination.k8s.io": ("leases",),
    "storage.k8s.io": ("storageclasses", "csidrivers", "volumeattachments"),
}
_GROUP_OF = {res: g for g, resources in GROUPS.items() for res in resources}
# Built-in cluster-scoped resources: a request for them carries no namespace, whatever -n says (the API server's
# request info has none), so only ClusterRoleBindings can grant them.
CLUSTER_SCOPED = frozenset({
    "nodes", "persistentvolumes", "clusterroles", "clusterrolebindings", "storageclasses", "csidrivers",
    "csinodes", "volumeattachments", "customresourcedefinitions", "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations", "validatingadmissionpolicies", "validatingadmissionpolicybindings",
    "certificatesigningrequests", "priorityclasses", "runtimeclasses", "ingressclasses", "apiservices",
    "tokenreviews", "selfsubjectaccessreviews", "subjectaccessreviews", "componentstatuses",
})


@dataclass(frozen=True)
class Request:
    verb: str
    resource: str = ""  # empty for a non-resource request
    subresource: str = ""
    group: str = ""
    namespace: str = ""  # empty: cluster-wide
    name: str = ""
    path: str = ""  # the URL of a non-resource request

    @property
    def is_resource(self) -> bool:
        return not self.path

    def describe(self) -> str:
        if not self.is_resource:
            return f"{self.verb} {self.path}"
        res = self.resource + (f".{self.group}" if self.group else "") + (f"/{self.subresource}" if self.subresource
                                                                          else "")
        return (f"{self.verb} {res}" + (f" named {self.name!r}" if self.name else "")
                + (f" in namespace {self.namespace}" if self.namespace else " cluster-wide"))


def parse_request(verb: str, target: str, namespace: str = "", name: str = "", index: Index | None = None,
                  ) -> Request:
    """`pods`, `pods/exec`, `deployments.apps/scale`, `/healthz` (a non-resource URL) -> a Request."""
    if target.startswith("/"):
        return Request(verb=verb, path=target)
    head, _, sub = target.partition("/")
    resource, _, group = head.partition(".")
    if not group:
        group = (index.crd_groups.get(resource) if index else None) or _GROUP_OF.get(resource, "")
    cluster_scoped = resource in CLUSTER_SCOPED or (index is not None and resource in index.cluster_scoped_crds)
    return Request(verb, resource, sub, group, "" if cluster_scoped else namespace, name)


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]


def user_info(name: str, extra_groups: tuple[str, ...] = ()) -> User:
    """The user the API server would see, with the groups authentication adds."""
    groups: list[str] = []
    if name.startswith(SA_PREFIX):
        ns = name[len(SA_PREFIX):].partition(":")[0]
        groups += ["system:serviceaccounts", f"system:serviceaccounts:{ns}"]
    groups.append("system:unauthenticated" if name == "system:anonymous" else "system:authenticated")
    return User(name, tuple(dict.fromkeys([*groups, *extra_groups])))


def _strings(rule: dict[str, Any], key: str) -> list[str]:
    v = rule.get(key)
    return [str(x) for x in v] if isinstance(v, list) else []


def rule_allows(rule: dict[str, Any], req: Request) -> bool:
    verbs = _strings(rule, "verbs")
    if "*" not in verbs and req.verb not in verbs:
        return False
    if not req.is_resource:
        return any(u == "*" or u == req.path or (u.endswith("*") and req.path.startswith(u.rstrip("*")))
                   for u in _strings(rule, "nonResourceURLs"))
    groups = _strings(rule, "apiGroups")
    if "*" not in groups and req.group not in groups:
        return False
    combined = req.resource + (f"/{req.subresource}" if req.subresource else "")
    if not any(r == "*" or r == combined or (req.subresource and r == f"*/{req.subresource}")
               for r in _strings(rule, "resources")):
        return False
    names = _strings(rule, "resourceNames")
    return not names or req.name in names


def subject_applies(user: User, subject: dict[str, Any], binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), str(subject.get("name", ""))
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = str(subject.get("namespace") or binding_namespace)
        return bool(ns) and user.name == f"{SA_PREFIX}{ns}:{name}"
    return False


@dataclass(frozen=True)
class Grant:
    """One way a request is allowed: a binding, the subject in it, and the rule of the bound role."""

    binding: KObject
    subject: dict[str, Any]
    rule: Rule

    @property
    def scope(self) -> str:
        return f"namespace {self.binding.ref.namespace}" if self.binding.ref.kind == "RoleBinding" else "cluster"

    def subject_name(self) -> str:
        kind, name = self.subject.get("kind"), str(self.subject.get("name", ""))
        if kind == "ServiceAccount":
            ns = self.subject.get("namespace") or self.binding.ref.namespace or ""
            return f"{SA_PREFIX}{ns}:{name}"
        return name


def _bindings(index: Index, namespace: str, every_namespace: bool) -> list[KObject]:
    """ClusterRoleBindings, then the RoleBindings of the request's namespace (VisitRulesFor's order)."""
    rbs = [b for b in index.role_bindings if every_namespace or (namespace and b.ref.namespace == namespace)]
    return index.cluster_role_bindings + rbs


def _subjects(binding: KObject) -> list[dict[str, Any]]:
    s = binding.data.get("subjects")
    return [x for x in s if isinstance(x, dict)] if isinstance(s, list) else []


def who_can(index: Index, req: Request, every_namespace: bool = False) -> list[Grant]:
    """Every (subject, binding, rule) that allows the request. With `every_namespace`, RoleBindings of any
    namespace count, each for its own namespace (a namespaced request asked across the cluster)."""
    grants: list[Grant] = []
    every_namespace = every_namespace and req.is_resource and bool(req.namespace or req.resource not in CLUSTER_SCOPED)
    for binding in _bindings(index, req.namespace, every_namespace):
        rules = index.role_ref_rules(binding)
        allowing = [r for r in rules or [] if rule_allows(r.data, req)]
        if not allowing:
            continue
        ns = (binding.ref.namespace or "") if binding.ref.kind == "RoleBinding" else ""
        for subject in _subjects(binding):
            if subject.get("kind") == "ServiceAccount" and not (subject.get("namespace") or ns):
                continue  # matches no one (appliesToUser)
            grants.append(Grant(binding, subject, allowing[0]))
    return grants


def can_i(index: Index, user: User, req: Request) -> list[Grant]:
    """The grants allowing `user` the request (empty: denied, as RBAC has no deny rules)."""
    grants: list[Grant] = []
    for binding in _bindings(index, req.namespace, False):
        ns = (binding.ref.namespace or "") if binding.ref.kind == "RoleBinding" else ""
        subject = next((s for s in _subjects(binding) if subject_applies(user, s, ns)), None)
        if subject is None:
            continue
        rule = next((r for r in index.role_ref_rules(binding) or [] if rule_allows(r.data, req)), None)
        if rule is not None:
            grants.append(Grant(binding, subject, rule))
    return grants


def unresolved(index: Index) -> list[str]:
    """Bindings whose role is not in the input: their rights cannot be judged offline (reported, not guessed)."""
    out = []
    for b in index.cluster_role_bindings + index.role_bindings:
        if index.role_ref_rules(b) is None:
            ref = b.data.get("roleRef")
            what = f"{ref.get('kind')}/{ref.get('name')}" if isinstance(ref, dict) else "(no roleRef)"
            out.append(f"{b.ref.label()} -> {what} is not in the input")
    return out
