"""Traffic that does not come from another workload of the input: ingress controllers, the outside world, and the
API server; and the warnings for what a NetworkPolicy cannot express.

- A Service routed by an Ingress (v1 or v1beta1 backends) or a Gateway API route (backendRefs) accepts traffic from
  the ingress controller / gateway pods named in the options; never from "any pod".
- A LoadBalancer or NodePort Service accepts its target ports from anywhere (with a warning).
- A workload that keeps a ServiceAccount token may call the API server (CIDR from the options, TCP 443 and 6443).
"""

from __future__ import annotations

from typing import Any, Iterator

from kharden.find.podspecs import get
from kharden.model import Path
from kharden.read import KObject

from .graph import host_networked, target_ports
from .inventory import Inventory, Namespace, Port, Workload, selector_matches
from .options import Options
from .references import HostIndex
from .rules import ALL_PORTS, ANYWHERE, Allow, ns_selector

API_PORTS = frozenset({Port("TCP", 443), Port("TCP", 6443)})


def service_warnings(inv: Inventory, allow: Allow) -> None:
    """Services whose traffic no podSelector can describe, and host-network pods that policies do not isolate."""
    for svc in inv.services:
        if svc.spec.get("type") == "ExternalName":
            allow.warn(svc.obj, "externalname", f"ExternalName Service {svc.name} points outside the cluster "
                       f"({svc.spec.get('externalName')}); a NetworkPolicy cannot name a DNS name", ("spec", "type"))
        elif not svc.selector:
            allow.warn(svc.obj, "no-selector", f"Service {svc.name} has no selector (its endpoints are managed "
                       "elsewhere); traffic to it is not derived", ("spec",))
    for w in inv.workloads:
        if host_networked(w):
            allow.warn(w.obj, "host-network", f"{w.label} uses the host's network; NetworkPolicies do not isolate "
                       "it and no policy is generated for it", w.target.spec_path + ("hostNetwork",))


def exposed_edges(inv: Inventory, allow: Allow) -> None:
    """LoadBalancer and NodePort Services: their target ports are reachable from anywhere, as their type asks."""
    for svc in inv.services:
        kind = svc.spec.get("type")
        if kind not in ("LoadBalancer", "NodePort"):
            continue
        allow.warn(svc.obj, "exposed", f"{kind} Service {svc.name} is reachable from outside the cluster; its target "
                   "ports are allowed from anywhere", ("spec", "type"))
        for server in svc.servers:
            ports = target_ports(svc, server, None, allow)
            if ports and not host_networked(server):
                where = svc.obj.where(('spec', 'type'))
                allow.add(server, "ingress", ANYWHERE, ports, f"from anywhere: {kind} Service {svc.name} ({where})")


def route_edges(inv: Inventory, index: HostIndex, opts: Options, allow: Allow) -> None:
    """Services behind an Ingress or Gateway route accept traffic from the controller pods of the options."""
    for route in inv.routes:
        peers = controller_peers(route, opts)
        for ns, name, port, path in backends(route):
            svc = index.short.get((ns, name))
            if svc is None:
                allow.warn(route, "unresolved-host", f"{route.ref.kind} {route.ref.name} routes to Service {name}, "
                           "which is not in the input", path)
                continue
            if not peers:
                allow.warn(route, "ingress-controller", "no ingress controller namespace or pod labels configured; "
                           "traffic from it is not allowed", path)
                continue
            why = f"from the {'gateway' if route.ref.kind != 'Ingress' else 'ingress controller'}: " \
                  f"{route.ref.kind} {route.ref.name} routes to Service {name} ({route.where(path)})"
            for server in svc.servers:
                ports = target_ports(svc, server, port, allow)
                if ports and not host_networked(server):
                    allow.add(server, "ingress", peers, ports, why)


GATEWAY_NAME = "gateway.networking.k8s.io/gateway-name"  # the label Gateway API implementations put on their pods


def controller_peers(route: KObject, opts: Options) -> list[dict[str, Any]]:
    """Who may send to a routed Service: the ingress controller of the options for an Ingress; for a Gateway API
    route, the gateway of the options, or else the pods of each parent Gateway (by the standard gateway-name
    label); never "any pod"."""
    ns, labels = str(opts.ingress_controller_namespace or ""), dict(opts.ingress_controller_pod_labels or {})
    if route.ref.kind != "Ingress":
        if opts.gateway_pod_labels:
            ns, labels = str(opts.gateway_namespace or ""), dict(opts.gateway_pod_labels)
        else:
            return _parent_gateways(route)
    if not labels:
        return []
    return [{"namespaceSelector": ns_selector(ns) if ns else {}, "podSelector": {"matchLabels": labels}}]


def _parent_gateways(route: KObject) -> list[dict[str, Any]]:
    out = []
    for ref in get(route.data, ("spec", "parentRefs")) or []:
        if isinstance(ref, dict) and ref.get("kind", "Gateway") == "Gateway" and ref.get("name"):
            pods = {"podSelector": {"matchLabels": {GATEWAY_NAME: str(ref["name"])}}}
            ns = ref.get("namespace", route.ref.namespace)
            out.append(pods if ns == route.ref.namespace else {"namespaceSelector": ns_selector(str(ns)), **pods})
    return out


Backend = tuple[Namespace, str, int | str | None, Path]  # (namespace, Service name, port number or name, path)


def backends(route: KObject) -> Iterator[Backend]:
    """(namespace, Service name, port number or name, path) of every backend of an Ingress or a Gateway API route."""
    return _ingress_backends(route) if route.ref.kind == "Ingress" else _route_backends(route)


def _ingress_backends(ingress: KObject) -> Iterator[Backend]:
    """The default backend and each path's, in networking.k8s.io/v1's shape (`service: {name, port}`) or
    v1beta1's (`serviceName`, `servicePort`)."""
    spec = ingress.data.get("spec") or {}
    candidates: list[tuple[Path, Any]] = [(("spec", key), spec.get(key)) for key in ("defaultBackend", "backend")]
    for i, rule in enumerate(spec.get("rules") or []):
        for j, p in enumerate(get(rule, ("http", "paths")) or []):
            candidates.append((("spec", "rules", i, "http", "paths", j, "backend"), get(p, ("backend",))))
    ns = ingress.ref.namespace
    for path, b in candidates:
        if isinstance(b, dict) and isinstance(b.get("service"), dict):  # networking.k8s.io/v1
            port = b["service"].get("port") or {}
            yield ns, str(b["service"].get("name")), port.get("number") or port.get("name"), path
        elif isinstance(b, dict) and b.get("serviceName"):  # v1beta1
            yield ns, str(b["serviceName"]), b.get("servicePort"), path


def _route_backends(route: KObject) -> Iterator[Backend]:
    """The Service backendRefs of a Gateway API route's rules (other kinds and groups are not Services)."""
    for i, rule in enumerate(get(route.data, ("spec", "rules")) or []):
        for j, ref in enumerate(get(rule, ("backendRefs",)) or []):
            if isinstance(ref, dict) and ref.get("kind", "Service") == "Service" and ref.get("group", "") == "":
                path = ("spec", "rules", i, "backendRefs", j)
                yield ref.get("namespace", route.ref.namespace), str(ref.get("name")), ref.get("port"), path


def keeps_token(w: Workload, inv: Inventory) -> bool:
    """Whether the pods get a ServiceAccount token: neither the pod nor its ServiceAccount turns it off."""
    spec = w.target.spec
    if spec.get("automountServiceAccountToken") is False:
        return False
    if spec.get("automountServiceAccountToken") is True:
        return True
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    sa = inv.service_accounts.get((w.ns, str(name)))
    return not (sa is not None and sa.get("automountServiceAccountToken") is False)


def api_cidrs(opts: Options) -> list[str]:
    return [c.strip() for c in str(opts.api_server_cidr or "").split(",") if c.strip()]


def api_ports(opts: Options) -> frozenset[Port]:
    """The API server's ports (`apiServerPorts`): 443 (the `kubernetes` Service) and 6443 (the usual port the
    endpoints listen on, which a NetworkPolicy sees after the Service's address is translated) by default."""
    return frozenset(Port("TCP", int(p)) for p in opts.api_server_ports or ()) or API_PORTS


def api_server_edges(inv: Inventory, opts: Options, allow: Allow, use: Any = None) -> None:
    """Egress to the API server for workloads that keep a token; a warning when its address is not configured.
    `use` (`kharden.know.api_use.ApiUse`): why each workload uses the API, named in the rule's reason."""
    cidrs = api_cidrs(opts)
    for w in inv.workloads:
        if host_networked(w) or not keeps_token(w, inv):
            continue
        if not cidrs:
            allow.warn(w.obj, "apiserver-cidr", f"{w.label} keeps a ServiceAccount token but apiServerCIDR is not "
                       "configured; no egress to the API server is allowed (set generators.networkPolicies."
                       "apiServerCIDR in the profile to the API server's address)", w.target.spec_path)
            continue
        spec = w.target.spec
        key = next((k for k in ("automountServiceAccountToken", "serviceAccountName") if k in spec), None)
        where = w.obj.where(w.target.spec_path + ((key,) if key else ()))
        reasons = use.of(w.target) if use is not None else []
        why = "to the API server: the pods keep a ServiceAccount token (" + (
            "; ".join(reasons) if reasons else "automountServiceAccountToken is not false") + f") ({where})"
        allow.add(w, "egress", [{"ipBlock": {"cidr": c}} for c in cidrs], api_ports(opts), why)


def controller_egress(inv: Inventory, opts: Options, allow: Allow) -> None:
    """An ingress controller of the input forwards to Services in any namespace: egress to every pod."""
    ns = str(opts.ingress_controller_namespace or "")
    labels = {"matchLabels": dict(opts.ingress_controller_pod_labels or {})}
    if not labels["matchLabels"]:
        return
    for w in inv.workloads:
        if (not ns or w.ns == ns) and selector_matches(labels, w.labels) and not host_networked(w):
            allow.add(w, "egress", {"namespaceSelector": {}}, ALL_PORTS,
                      "to any pod: it is the ingress controller, which forwards to the Services that Ingresses route")
