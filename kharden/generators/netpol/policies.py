"""The NetworkPolicy objects: per namespace a default-deny and an allow-DNS, per workload its ingress and egress.

Names are deterministic (`default-deny`, `allow-dns`, `<workload>-ingress`, `<workload>-egress`), valid DNS-1123
labels of at most 63 characters, and never one already taken in the namespace (by the input or by an earlier
generated object): a clash gets `-kharden`, then `-kharden-2`, ... Every object carries
`app.kubernetes.io/managed-by: kharden` and a `kharden.dev/why` annotation with one line per reason.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from kharden.generators.base import MANAGED_BY

from .existing import TYPES, Existing
from .graph import host_networked
from .inventory import Inventory, Namespace, Workload
from .options import Options
from .rules import Allow, Direction, Rule, ns_selector

WHY = "kharden.dev/why"


def dns1123(name: str, limit: int = 63) -> str:
    """Lower-case letters, digits and '-', starting and ending alphanumeric, at most `limit` characters."""
    out = re.sub(r"[^a-z0-9-]+", "-", name.lower())[:limit].strip("-")
    return out or "policy"


class Names:
    """Hands out policy names per namespace, never one already taken."""

    def __init__(self, taken: dict[Namespace, set[str]]) -> None:
        self.taken = {ns: set(names) for ns, names in taken.items()}

    def claim(self, ns: Namespace, base: str) -> str:
        used = self.taken.setdefault(ns, set())
        n = 0
        while True:
            suffix = "" if n == 0 else ("-kharden" if n == 1 else f"-kharden-{n}")
            name = dns1123(base, 63 - len(suffix)) + suffix
            if name not in used:
                used.add(name)
                return name
            n += 1


# A reason's place is written `(file:line)` in messages; in the annotation without the line: the lines are those of
# the input, which `fix -i` then rewrites, so the next run would read other lines and rewrite every policy.
_LINE = re.compile(r"(\([^()\n]*?):\d+\)")


def policy(name: str, ns: Namespace, selector: dict[str, Any], types: list[str], why: list[str],
           spec_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns is not None:  # without one it lands, like the workloads, where kubectl applies it
        meta["namespace"] = ns
    meta["labels"] = dict(MANAGED_BY)
    meta["annotations"] = {WHY: "\n".join(_LINE.sub(r"\1)", w) for w in why)}
    spec: dict[str, Any] = {"podSelector": selector, "policyTypes": types}
    spec.update(spec_extra or {})
    # Every mapping appears once: a shared selector would render as a YAML alias and couple later edits.
    obj = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}
    copied: dict[str, Any] = json.loads(json.dumps(obj))
    return copied


def default_deny(name: str, ns: Namespace, types: list[str]) -> dict[str, Any]:
    why = [f"deny all {' and '.join(t.lower() for t in types)} that no other policy in the namespace allows "
           "(network isolation)"]
    return policy(name, ns, {}, types, why)


def allow_dns(name: str, ns: Namespace, opts: Options) -> dict[str, Any]:
    """Egress to the cluster DNS (and NodeLocal DNSCache when configured), UDP and TCP: TCP for large answers."""
    port = int(opts.dns_port)
    dns_ns = str(opts.dns_namespace)
    peers = [{"namespaceSelector": ns_selector(dns_ns), "podSelector": {"matchLabels": dict(opts.dns_pod_labels)}}]
    why = [f"egress[0] to the cluster DNS: pods in namespace {dns_ns} labelled "
           f"{_labels(opts.dns_pod_labels)}, UDP and TCP {port}"]
    ports = [{"protocol": "UDP", "port": port}, {"protocol": "TCP", "port": port}]
    rules: list[dict[str, Any]] = [{"to": peers, "ports": ports}]
    if opts.node_local_dns:  # the node-local cache answers on the link-local address, always on port 53
        address = str(opts.node_local_dns)
        cidr = address if "/" in address else f"{address}/32"
        local_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
        rules.append({"to": [{"ipBlock": {"cidr": cidr}}], "ports": local_ports})
        why.append(f"egress[1] to NodeLocal DNSCache at {address}, UDP and TCP 53")
    return policy(name, ns, {}, ["Egress"], why, {"egress": rules})


def _labels(labels: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def rule_object(rule: Rule, direction: Direction) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.peers:
        out["from" if direction == "ingress" else "to"] = rule.peers
    if rule.ports:
        out["ports"] = [{"protocol": p.protocol, "port": p.port} for p in sorted(rule.ports)]
    return out


def workload_policy(w: Workload, direction: Direction, rules: list[Rule], names: Names) -> dict[str, Any]:
    why = [f"{direction}[{i}] {reason}" for i, rule in enumerate(rules) for reason in rule.reasons]
    name = names.claim(w.ns, f"{w.name}-{direction}")
    spec: dict[str, Any] = {direction: [rule_object(r, direction) for r in rules]}
    return policy(name, w.ns, w.selector, [direction.capitalize()], why, spec)


def namespace_key(ns: Namespace) -> tuple[bool, str]:
    return (ns is not None, ns or "")


def build_policies(inv: Inventory, allow: Allow, existing: Existing, opts: Options) -> list[dict[str, Any]]:
    """All generated policies, namespace by namespace (unnamed first), then workload by workload (by name)."""
    names = Names(existing.names)
    out: list[dict[str, Any]] = []
    for ns in sorted(inv.namespaces, key=namespace_key):
        deny = [t for t in TYPES if t not in existing.isolated.get(ns, set())]
        if deny:
            out.append(default_deny(names.claim(ns, "default-deny"), ns, deny))
        if ns not in existing.dns:
            out.append(allow_dns(names.claim(ns, "allow-dns"), ns, opts))
        workloads = sorted(inv.by_ns.get(ns, []), key=lambda w: (w.name, w.obj.ref.kind))
        out += _workload_policies(workloads, allow, existing, names)
    return out


def _workload_policies(workloads: Iterable[Workload], allow: Allow, existing: Existing,
                       names: Names) -> list[dict[str, Any]]:
    out = []
    for w in workloads:
        if host_networked(w):
            continue
        covered = existing.covered(w)
        directions: tuple[Direction, ...] = ("ingress", "egress")
        for direction in directions:
            rules = allow.of(w, direction)
            if not rules:
                continue
            if not w.selector:
                allow.warn(w.obj, "unselectable", f"{w.label} has no selector or pod labels; no policy can select "
                           "its pods alone", w.target.meta_path)
            elif direction.capitalize() in covered:
                allow.note(w.obj, "existing-policy", f"NetworkPolicy {covered[direction.capitalize()]} already "
                           f"decides the {direction} of {w.label}; no {direction} policy generated")
            else:
                out.append(workload_policy(w, direction, rules, names))
    return out
