"""What the NetworkPolicy generator knows about the input: workloads, Services, ConfigMaps, ServiceAccounts.

Everything is indexed once so that later matching is a dictionary look-up, not a scan: Services find their pods
through a label index (pair -> workloads), references find their Service through a host-name index.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from kharden.find.podspecs import PodTarget, find_pod_targets, get
from kharden.model import Path
from kharden.read import KObject

Namespace = str | None  # None: "the namespace kubectl applies it to" (no metadata.namespace)
Labels = dict[str, str]



@dataclass(frozen=True, order=True)
class Port:
    """One destination port of a rule: protocol and number."""

    protocol: str
    port: int


class _OfObject:
    """Namespace and name of the input object a record stands for."""

    obj: KObject

    @property
    def ns(self) -> Namespace:
        return self.obj.ref.namespace

    @property
    def name(self) -> str:
        return self.obj.ref.name


@dataclass(eq=False)
class Workload(_OfObject):
    """One object that runs pods, with the selector that picks its pods in a NetworkPolicy."""

    target: PodTarget
    selector: dict[str, Any]  # a LabelSelector: {matchLabels: ..., matchExpressions: ...}
    labels: Labels  # the pod template's labels (what Service selectors and existing policies match)

    @property
    def obj(self) -> KObject:  # type: ignore[override]  # read-only here: a workload's object is its target's
        return self.target.obj

    @property
    def label(self) -> str:
        return f"{self.obj.ref.kind}/{self.name}"

    def named_ports(self) -> dict[str, Port]:
        """Container port name -> Port, over every container of the pod."""
        out: dict[str, Port] = {}
        for _, c in self.target.containers():
            for p in c.get("ports") or []:
                if isinstance(p, dict) and p.get("name") and isinstance(p.get("containerPort"), int):
                    out.setdefault(str(p["name"]), Port(str(p.get("protocol", "TCP")), p["containerPort"]))
        return out

    def container_ports(self) -> set[Port]:
        return {
            Port(str(p.get("protocol", "TCP")), p["containerPort"])
            for _, c in self.target.containers()
            for p in c.get("ports") or []
            if isinstance(p, dict) and isinstance(p.get("containerPort"), int)
        }


@dataclass(eq=False)
class Service(_OfObject):
    """A Service of the input and the workloads whose pods it selects."""

    obj: KObject
    selector: Labels
    servers: list[Workload] = field(default_factory=list)

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.obj.data.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def headless(self) -> bool:
        return self.spec.get("clusterIP") == "None"

    def ports(self) -> list[tuple[int, dict[str, Any]]]:
        """(index, port entry) of spec.ports."""
        ports = self.spec.get("ports")
        return [(i, p) for i, p in enumerate(ports or []) if isinstance(p, dict)] if isinstance(ports, list) else []


@dataclass
class Inventory:
    """The input, indexed."""

    workloads: list[Workload] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    config_maps: dict[tuple[Namespace, str], KObject] = field(default_factory=dict)
    service_accounts: dict[tuple[Namespace, str], dict[str, Any]] = field(default_factory=dict)  # the SA's data
    statefulsets: dict[tuple[Namespace, str], Workload] = field(default_factory=dict)
    policies: list[KObject] = field(default_factory=list)
    routes: list[KObject] = field(default_factory=list)  # Ingresses and Gateway API routes
    namespaces: set[Namespace] = field(default_factory=set)
    by_pair: dict[tuple[Namespace, str, str], list[Workload]] = field(default_factory=lambda: defaultdict(list))
    by_ns: dict[Namespace, list[Workload]] = field(default_factory=lambda: defaultdict(list))

    def select(self, ns: Namespace, labels: Labels) -> list[Workload]:
        """Workloads in `ns` whose pod labels include all of `labels`; via the pair index, not a scan."""
        if not labels:
            return list(self.by_ns.get(ns, []))
        lists = [self.by_pair.get((ns, k, v), []) for k, v in labels.items()]
        smallest = min(lists, key=len)
        return [w for w in smallest if all(w.labels.get(k) == v for k, v in labels.items())]


CLUSTER_SCOPED = {
    "Namespace", "Node", "PersistentVolume", "StorageClass", "CustomResourceDefinition", "APIService",
    "IngressClass", "PriorityClass", "RuntimeClass", "CSIDriver", "CSINode", "VolumeAttachment",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "PodSecurityPolicy", "CertificateSigningRequest", "GatewayClass",
    "FlowSchema", "PriorityLevelConfiguration",
}


def cluster_scoped(kind: str) -> bool:
    """Kinds that live in no namespace (so their lack of metadata.namespace says nothing about one)."""
    return kind in CLUSTER_SCOPED or kind.startswith("Cluster")


ROUTE_KINDS = {"Ingress", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"}


def build(objects: Iterable[KObject], custom: dict[tuple[str, str], Path] | None = None,
          generated: Iterable[Any] = ()) -> Inventory:
    """Index the objects of the whole input, in input order, and the ServiceAccounts an earlier generator made
    (rbac's dedicated ServiceAccounts decide whether a pod keeps its token)."""
    inv = Inventory()
    for g in generated:
        if isinstance(g, dict) and g.get("kind") == "ServiceAccount" and isinstance(g.get("metadata"), dict):
            ns = g["metadata"].get("namespace")
            inv.service_accounts[(None if ns is None else str(ns), str(g["metadata"].get("name")))] = g
    for obj in objects:
        kind, ns = obj.ref.kind, obj.ref.namespace
        if kind == "Namespace":
            inv.namespaces.add(obj.ref.name)
        elif ns is not None or not cluster_scoped(kind):
            inv.namespaces.add(ns)
        if kind != "PodTemplate":  # a bare PodTemplate runs no pods
            _add_workloads(inv, obj, custom)
        if kind == "Service" and obj.ref.api_version == "v1":
            selector = get(obj.data, ("spec", "selector"))
            inv.services.append(Service(obj, _str_map(selector)))
        elif kind == "ConfigMap":
            inv.config_maps[(ns, obj.ref.name)] = obj
        elif kind == "ServiceAccount":
            inv.service_accounts[(ns, obj.ref.name)] = obj.data
        elif kind == "NetworkPolicy" and obj.ref.api_version.startswith("networking.k8s.io/"):
            inv.policies.append(obj)
        elif kind in ROUTE_KINDS:
            inv.routes.append(obj)
    for svc in inv.services:
        if svc.selector:
            svc.servers = inv.select(svc.ns, svc.selector)
    return inv


def _add_workloads(inv: Inventory, obj: KObject, custom: dict[tuple[str, str], Path] | None) -> None:
    for target in find_pod_targets(obj, custom):
        labels = _str_map(get(obj.data, target.meta_path + ("labels",)))
        w = Workload(target, workload_selector(obj, target, labels), labels)
        inv.workloads.append(w)
        inv.by_ns[w.ns].append(w)
        for k, v in labels.items():
            inv.by_pair[(w.ns, k, v)].append(w)
        if obj.ref.kind == "StatefulSet":
            inv.statefulsets[(w.ns, w.name)] = w


def workload_selector(obj: KObject, target: PodTarget, labels: Labels) -> dict[str, Any]:
    """The workload's own selector (stable), falling back to its template labels where it has none.

    Template labels often carry versions or hashes that change with each release; the selector cannot change
    without recreating the workload, so a policy that uses it keeps matching.
    """
    if obj.ref.kind == "ReplicationController":
        rc = _str_map(get(obj.data, ("spec", "selector")))
        return {"matchLabels": rc} if rc else ({"matchLabels": labels} if labels else {})
    sel = get(obj.data, ("spec", "selector")) if target.template == ("spec", "template") else None
    if isinstance(sel, dict) and (sel.get("matchLabels") or sel.get("matchExpressions")):
        out: dict[str, Any] = {}
        if sel.get("matchLabels"):
            out["matchLabels"] = _str_map(sel["matchLabels"])
        if sel.get("matchExpressions"):
            out["matchExpressions"] = sel["matchExpressions"]
        return out
    return {"matchLabels": labels} if labels else {}


def _str_map(value: Any) -> Labels:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def selector_matches(selector: Any, labels: Labels) -> bool:
    """Kubernetes LabelSelector semantics: matchLabels and every matchExpression; {} selects everything."""
    if not isinstance(selector, dict):
        return False
    for k, v in _str_map(selector.get("matchLabels")).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            return False
        key, op = str(expr.get("key")), expr.get("operator")
        values = {str(v) for v in expr.get("values") or []}
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True
