"""Keep the traffic that policies already in the input allow, and the API server's calls to webhooks.

An existing policy that lets pods A receive from pods B says B talks to A. Once kharden's default-deny isolates
B's egress, B needs the matching egress, or the author's rule becomes dead (Argo CD's install allows
argocd-server -> argocd-redis this way and names the address nowhere else). The same holds the other way for an
existing egress rule. Only peers a policy can name are mirrored: pods of the same namespace, or of a namespace
named by `kubernetes.io/metadata.name`; "any namespace" peers name no client.

Admission webhooks and aggregated APIs (APIService) are called by the API server: their pods accept its CIDR.
"""

from __future__ import annotations

from typing import Any, Iterator

from kharden.find.podspecs import get
from kharden.read import KObject

from .existing import policy_types
from .graph import host_networked, target_ports
from .inventory import Inventory, Namespace, Port, Workload, selector_matches
from .references import HostIndex
from .rules import ALL_PORTS, NS_LABEL, Allow, Direction, ns_selector

WEBHOOK_KINDS = {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}


def mirror_existing(inv: Inventory, allow: Allow) -> None:
    """Add the other side of every pod-to-pod rule of the input's NetworkPolicies.

    The other side names the policy's own podSelector (one rule per peer workload), never the pairs, so a
    policy over all pods of a namespace costs one rule per workload, not one per pair.
    """
    for pol in inv.policies:
        spec = pol.data.get("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("podSelector"), dict):
            continue
        ns, selector = pol.ref.namespace, spec["podSelector"]
        selected = _matching(inv, ns, selector)
        for direction in sorted(policy_types(spec)):
            key, peer_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
            other: Direction = "egress" if key == "ingress" else "ingress"
            for i, rule in enumerate(spec.get(key) or []):
                if not isinstance(rule, dict):
                    continue
                why = f"{'to' if other == 'egress' else 'from'} the pods of NetworkPolicy {pol.ref.name}, as it " \
                      f"allows ({pol.where(('spec', key, i))})"
                for peer in _peers(inv, ns, rule.get(peer_key)):
                    mine = _selector_peer(selector, ns, peer.ns)
                    ports = _ports(rule.get("ports"), selected if key == "ingress" else [peer])
                    if mine is not None and ports is not None:
                        allow.add(peer, other, mine, ports, why)


def _selector_peer(selector: dict[str, Any], ns: Namespace, here: Namespace) -> dict[str, Any] | None:
    if ns == here:
        return {"podSelector": selector}
    return None if ns is None else {"namespaceSelector": ns_selector(ns), "podSelector": selector}


def _matching(inv: Inventory, ns: Namespace, selector: dict[str, Any]) -> list[Workload]:
    labels = selector.get("matchLabels")
    candidates = inv.select(ns, {str(k): str(v) for k, v in labels.items()}) if isinstance(labels, dict) \
        else inv.by_ns.get(ns, [])
    return [w for w in candidates if selector_matches(selector, w.labels) and not host_networked(w)]


def _peers(inv: Inventory, ns: Namespace, peers: Any) -> Iterator[Workload]:
    """Workloads of the input a rule's peers select; peers that name no namespace we know select none."""
    for peer in peers or []:
        if not isinstance(peer, dict) or "ipBlock" in peer or "podSelector" not in peer:
            continue
        target_ns: Namespace = ns
        if "namespaceSelector" in peer:
            named = get(peer, ("namespaceSelector", "matchLabels", NS_LABEL))
            if named is None:
                continue
            target_ns = str(named)
        yield from _matching(inv, target_ns, peer.get("podSelector") or {})


def _ports(ports: Any, servers: list[Workload]) -> frozenset[Port] | None:
    """The rule's ports, named ones resolved through the servers' containers; None if not exactly writable."""
    if not ports:
        return ALL_PORTS
    out = set()
    for p in ports:
        if not isinstance(p, dict) or p.get("endPort") is not None:
            return None
        proto = str(p.get("protocol", "TCP"))
        value = p.get("port")
        if value is None:
            return ALL_PORTS
        if isinstance(value, int):
            out.add(Port(proto, value))
        else:
            out |= {Port(proto, n.port) for s in servers for name, n in s.named_ports().items() if name == str(value)}
    return frozenset(out) or None


def webhook_edges(inv: Inventory, index: HostIndex, objects: list[KObject], cidrs: list[str], allow: Allow) -> None:
    """Pods behind an admission webhook or an APIService accept the API server (its CIDR), on the target port."""
    for obj in objects:
        for path, ref in _api_called(obj):
            svc = index.short.get((ref.get("namespace"), str(ref.get("name"))))
            if svc is None:
                continue
            if not cidrs:
                allow.warn(obj, "apiserver-cidr", f"the API server calls Service {svc.name} for {obj.ref.kind} "
                           f"{obj.ref.name}, but apiServerCIDR is not configured; its pods do not accept it", path)
                continue
            why = f"from the API server: {obj.ref.kind} {obj.ref.name} calls Service {svc.name} " \
                  f"({obj.where(path)})"
            for server in svc.servers:
                ports = target_ports(svc, server, ref.get("port", 443), allow)
                if ports and not host_networked(server):
                    allow.add(server, "ingress", [{"ipBlock": {"cidr": c}} for c in cidrs], ports, why)


def _api_called(obj: KObject) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    if obj.ref.kind in WEBHOOK_KINDS:
        for i, hook in enumerate(obj.data.get("webhooks") or []):
            ref = get(hook, ("clientConfig", "service"))
            if isinstance(ref, dict):
                yield ("webhooks", i, "clientConfig", "service"), ref
    elif obj.ref.kind == "APIService" and isinstance(get(obj.data, ("spec", "service")), dict):
        yield ("spec", "service"), obj.data["spec"]["service"]
