"""The RBAC objects of an input, indexed the way the authorizer looks them up, with aggregation resolved.

Facts from the Kubernetes RBAC authorizer (kubernetes/kubernetes, pkg/registry/rbac/validation/rule.go,
`VisitRulesFor` and `GetRoleReferenceRules`): ClusterRoleBindings apply in every namespace; RoleBindings only in
their own namespace; a RoleBinding's roleRef may name a Role of its namespace or a ClusterRole (whose rules then
apply in that namespace only); a ClusterRoleBinding's roleRef must be a ClusterRole.

Aggregation (pkg/controller/clusterroleaggregation): a ClusterRole with `aggregationRule.clusterRoleSelectors`
gets, from the controller, the rules of every other ClusterRole whose labels match any of the selectors; its own
`rules` are overwritten. Here that is resolved transitively, each rule remembering the ClusterRole it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kharden.read import KObject

RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Rule:
    """One PolicyRule with its origin: the role that holds it and its index in that role's `rules`."""

    role: KObject
    index: int
    data: dict[str, Any]

    def where(self) -> str:
        return f"{self.role.ref.label()} rules[{self.index}] ({self.role.where(('rules', self.index))})"


@dataclass
class Index:
    roles: dict[tuple[str, str], KObject] = field(default_factory=dict)  # (namespace, name)
    cluster_roles: dict[str, KObject] = field(default_factory=dict)
    role_bindings: list[KObject] = field(default_factory=list)
    cluster_role_bindings: list[KObject] = field(default_factory=list)
    crd_groups: dict[str, str] = field(default_factory=dict)  # plural -> group, from CRDs in the input
    cluster_scoped_crds: set[str] = field(default_factory=set)  # plurals of CRDs with scope: Cluster
    _aggregated: dict[str, list[Rule]] = field(default_factory=dict)

    def cluster_role_rules(self, name: str) -> list[Rule] | None:
        """A ClusterRole's effective rules (aggregation resolved); None when the input has no such ClusterRole."""
        if name not in self.cluster_roles:
            return None
        if name not in self._aggregated:
            self._aggregated[name] = self._resolve(name, ())
        return self._aggregated[name]

    def role_ref_rules(self, binding: KObject) -> list[Rule] | None:
        """The rules a binding's roleRef names (None: the role is not in the input, or the roleRef is invalid)."""
        ref = binding.data.get("roleRef")
        if not isinstance(ref, dict):
            return None
        kind, name = ref.get("kind"), str(ref.get("name", ""))
        if kind == "ClusterRole":
            return self.cluster_role_rules(name)
        if kind == "Role" and binding.ref.kind == "RoleBinding":
            role = self.roles.get((binding.ref.namespace or "", name))
            return None if role is None else _own_rules(role)
        return None

    def _resolve(self, name: str, seen: tuple[str, ...]) -> list[Rule]:
        role = self.cluster_roles[name]
        selectors = _selectors(role)
        if selectors is None:
            return _own_rules(role)
        out: list[Rule] = []
        for other_name, other in sorted(self.cluster_roles.items()):
            if other_name == name or other_name in seen:
                continue
            if any(matches(sel, _labels(other)) for sel in selectors):
                out += self._resolve(other_name, seen + (name,))
        return out


def build_index(objects: list[KObject]) -> Index:
    index = Index()
    for obj in objects:
        group = obj.ref.api_version.rpartition("/")[0]
        kind = obj.ref.kind
        if kind == "CustomResourceDefinition":
            _crd(index, obj)
            continue
        if group != RBAC_GROUP:
            continue
        if kind == "Role":
            index.roles[(obj.ref.namespace or "", obj.ref.name)] = obj
        elif kind == "ClusterRole":
            index.cluster_roles[obj.ref.name] = obj
        elif kind == "RoleBinding":
            index.role_bindings.append(obj)
        elif kind == "ClusterRoleBinding":
            index.cluster_role_bindings.append(obj)
    return index


def _crd(index: Index, obj: KObject) -> None:
    spec = obj.data.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("names"), dict):
        return
    plural, group = spec["names"].get("plural"), spec.get("group")
    if isinstance(plural, str) and isinstance(group, str):
        index.crd_groups.setdefault(plural, group)
        if spec.get("scope") == "Cluster":
            index.cluster_scoped_crds.add(plural)


def _own_rules(role: KObject) -> list[Rule]:
    rules = role.data.get("rules")
    return [Rule(role, i, r) for i, r in enumerate(rules if isinstance(rules, list) else []) if isinstance(r, dict)]


def _selectors(role: KObject) -> list[dict[str, Any]] | None:
    agg = role.data.get("aggregationRule")
    if not isinstance(agg, dict):
        return None
    sels = agg.get("clusterRoleSelectors")
    return [s for s in sels if isinstance(s, dict)] if isinstance(sels, list) else []


def _labels(obj: KObject) -> dict[str, str]:
    meta = obj.data.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector: every matchLabels pair and every matchExpression holds. An empty selector matches
    everything (as `metav1.LabelSelectorAsSelector` makes it)."""
    ml = selector.get("matchLabels")
    for k, v in (ml.items() if isinstance(ml, dict) else ()):
        if labels.get(str(k)) != str(v):
            return False
    exprs = selector.get("matchExpressions")
    for e in exprs if isinstance(exprs, list) else []:
        if not isinstance(e, dict) or not _expression(e, labels):
            return False
    return True


def _expression(e: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op = str(e.get("key", "")), e.get("operator")
    values = [str(v) for v in e.get("values") or []]
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False  # an unknown operator is rejected by the API server; it matches nothing here
