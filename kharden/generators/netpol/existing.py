"""NetworkPolicies already in the input, and what they settle.

- A policy with an empty podSelector isolates the whole namespace for its types: no generated default-deny for
  those types. If it also has rules (e.g. "allow from the same namespace"), the author has decided that namespace's
  traffic for those types: no per-workload policy of those types is generated there.
- A policy whose podSelector selects a workload's pods decides that workload's traffic for its types: no
  generated per-workload policy of those types (an allow-list there would widen what the author chose).
- A namespace-wide egress rule on port 53 already allows DNS: no generated allow-DNS.
- Names already taken are never reused.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kharden.read import KObject

from .inventory import Namespace, Workload, selector_matches

TYPES = ("Ingress", "Egress")


@dataclass
class Existing:
    names: dict[Namespace, set[str]] = field(default_factory=lambda: defaultdict(set))
    isolated: dict[Namespace, set[str]] = field(default_factory=lambda: defaultdict(set))
    # namespace-wide allow rules (type -> policy name), and policies selecting some pods (selector, types, name)
    decided: dict[Namespace, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    selective: dict[Namespace, list[tuple[dict[str, Any], set[str], str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    dns: set[Namespace] = field(default_factory=set)

    def covered(self, w: Workload) -> dict[str, str]:
        """Policy types an existing policy already decides for the workload's pods -> that policy's name."""
        out = dict(self.decided.get(w.ns, {}))
        for selector, types, name in self.selective.get(w.ns, []):
            if not types <= set(out) and selector_matches(selector, w.labels):
                out.update({t: name for t in types if t not in out})
        return out


def policy_types(spec: dict[str, Any]) -> set[str]:
    """Effective policyTypes: as written, else Ingress plus Egress when egress rules are present."""
    types = spec.get("policyTypes")
    if isinstance(types, list):
        return {t for t in types if t in TYPES}
    return {"Ingress"} | ({"Egress"} if "egress" in spec else set())


def read_existing(policies: list[KObject], dns_port: int = 53) -> Existing:
    out = Existing()
    for obj in policies:
        ns = obj.ref.namespace
        out.names[ns].add(obj.ref.name)
        spec = obj.data.get("spec")
        if not isinstance(spec, dict):
            continue
        types = policy_types(spec)
        selector = spec.get("podSelector")
        if selector in ({}, None) or selector == {"matchLabels": {}}:
            out.isolated[ns] |= types
            out.decided[ns].update({t: obj.ref.name for t in types if spec.get(t.lower()) and t not in out.decided[ns]})
            if "Egress" in types and _allows_dns(spec.get("egress"), dns_port):
                out.dns.add(ns)
        elif isinstance(selector, dict):
            out.selective[ns].append((selector, types, obj.ref.name))
    return out


def _allows_dns(rules: Any, port: int) -> bool:
    for rule in rules or []:
        if not isinstance(rule, dict):
            continue
        ports = rule.get("ports")
        if not ports and not rule.get("to"):  # everything, everywhere
            return True
        if any(isinstance(p, dict) and p.get("port") in (port, str(port), "dns") for p in ports or []):
            return True
    return False
