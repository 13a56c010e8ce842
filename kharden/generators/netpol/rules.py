"""The allow-list being built: per workload and direction, one rule per peer, with its ports and its reasons.

Peers are NetworkPolicy peer mappings (`podSelector`, `namespaceSelector`, `ipBlock`) or ANYWHERE (a rule without
`from`/`to`). Ports are a set of `Port`s, or ALL_PORTS (a rule without `ports`). Rules are keyed by the peer's
canonical JSON, so the same peer reached through several references becomes one rule listing every reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kharden.model import Finding, Path, Severity
from kharden.read import KObject

from .inventory import Namespace, Port, Workload

Direction = Literal["ingress", "egress"]
ANYWHERE: dict[str, Any] = {}  # no from/to: every source or destination
ALL_PORTS: frozenset[Port] = frozenset()  # no ports: every port
NS_LABEL = "kubernetes.io/metadata.name"


@dataclass
class Rule:
    peers: list[dict[str, Any]]  # [] = anywhere
    ports: set[Port] | None  # None: all ports
    reasons: list[str] = field(default_factory=list)


@dataclass
class Allow:
    """Rules per (workload, direction), and the warnings found on the way (deduplicated, in order)."""

    rules: dict[tuple[int, Direction], dict[str, Rule]] = field(default_factory=dict)
    warnings: dict[tuple[str, Any, Path, str], Finding] = field(default_factory=dict)

    def add(self, w: Workload, direction: Direction, peer: dict[str, Any] | list[dict[str, Any]],
            ports: frozenset[Port] | set[Port], reason: str) -> None:
        """Allow `w` to receive from / send to `peer` (one peer, or several as one rule; ANYWHERE for any) on
        `ports` (ALL_PORTS for every port), because `reason`."""
        peers = peer if isinstance(peer, list) else ([peer] if peer else [])
        by_peer = self.rules.setdefault((id(w), direction), {})
        key = json.dumps(peers, sort_keys=True)
        rule = by_peer.get(key)
        if rule is None:
            rule = by_peer[key] = Rule(peers, set())
        if rule.ports is not None:
            rule.ports = None if not ports else rule.ports | set(ports)
        if reason not in rule.reasons:
            rule.reasons.append(reason)

    def of(self, w: Workload, direction: Direction) -> list[Rule]:
        """The rules of one workload and direction, in a deterministic order (by peer)."""
        by_peer = self.rules.get((id(w), direction), {})
        return [by_peer[k] for k in sorted(by_peer)]

    def warn(self, obj: KObject | None, rule: str, message: str, path: Path = ()) -> None:
        self._finding(obj, rule, message, path, "warning")

    def note(self, obj: KObject | None, rule: str, message: str, path: Path = ()) -> None:
        self._finding(obj, rule, message, path, "info")

    def _finding(self, obj: KObject | None, rule: str, message: str, path: Path, severity: Severity) -> None:
        ref = obj.ref if obj is not None else None
        key = (rule, ref, path, message)
        if key not in self.warnings:
            line = obj.line(path) if obj is not None else None
            finding = Finding(ref, f"netpol.{rule}", severity, message, path, line)
            self.warnings[key] = replace(finding, status="info") if severity == "info" else finding

    def findings(self) -> list[Finding]:
        return list(self.warnings.values())


def ns_selector(ns: str) -> dict[str, Any]:
    return {"matchLabels": {NS_LABEL: ns}}


def workload_peer(other: Workload, here: Namespace) -> dict[str, Any] | None:
    """The peer that selects `other`'s pods from a policy in namespace `here`; None if it cannot be written.

    A policy without namespace lands wherever kubectl applies it, so a peer in an unnamed namespace can only be
    reached from a policy that is itself unnamed (same namespace, plain podSelector).
    """
    if other.ns == here:
        return {"podSelector": other.selector}
    if other.ns is None:
        return None
    return {"namespaceSelector": ns_selector(other.ns), "podSelector": other.selector}


def port_text(ports: frozenset[Port] | set[Port] | None) -> str:
    if not ports:
        return "all ports"
    return ", ".join(f"{p.protocol} {p.port}" for p in sorted(ports))
