"""Protected namespaces: the cluster's own (`kube-system`, `kube-public`, `kube-node-lease` by default; the profile's
`protectedNamespaces` says which) get no edit and no generated object. kharden reports what it would have done.

Why: the workloads there (CoreDNS, kube-proxy, CNI and CSI agents, cloud controllers) are installed and run by the
cluster's operator and often must run as root, on the host network, with their tokens. A default-deny NetworkPolicy
in `kube-system` cuts every namespace off from CoreDNS; `runAsNonRoot` on kube-proxy stops it starting; Pod Security
Admission labels enforcing `restricted` on the Namespace `kube-system` stop its DaemonSets creating pods.

    kind: Deployment                          (unchanged, and reported:)
    metadata: {name: coredns,          ->     info [kharden.protected-namespace] kube-system is a protected
               namespace: kube-system}        namespace: not changed; runAsNonRoot would set
                                              spec.template.spec.securityContext.runAsNonRoot = true, ...

An object is protected when its `metadata.namespace` is one of them, or it is the Namespace object of one. Objects
without a namespace (left to `kubectl -n`) are not: kharden cannot know where they go.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Callable, Iterable

from kharden.model import Change, Finding, ObjectRef, dotted
from kharden.read import KObject

DEFAULT = ("kube-system", "kube-public", "kube-node-lease")
RULE = "kharden.protected-namespace"


LEFT = "in a protected namespace: reported, not changed (profile: protectedNamespaces)"


def namespace_of(ref: ObjectRef) -> str | None:
    """The protected-namespace question's namespace: its own for a Namespace object, else metadata.namespace."""
    return ref.name if ref.kind == "Namespace" and ref.api_version == "v1" else ref.namespace


def covers(ref: ObjectRef, protected: Iterable[str]) -> bool:
    ns = namespace_of(ref)
    return ns is not None and ns in protected


def would_change(obj: KObject, run: Callable[[KObject, list[Change], list[Finding]], None]) -> list[Finding]:
    """Run `run` (the mutators) on a copy of a protected object and report its changes, one finding per mutator."""
    twin = KObject(obj.ref, copy.deepcopy(obj.data), obj.doc)
    changes: list[Change] = []
    run(twin, changes, [])
    return report(obj, changes)


def report(obj: KObject, changes: list[Change]) -> list[Finding]:
    """One note per mutator (or generator) naming every edit it would have made to this protected object."""
    by: dict[str, list[Change]] = defaultdict(list)
    for c in changes:
        by[c.mutator].append(c)
    ns = namespace_of(obj.ref)
    out = []
    for mutator, edits in by.items():
        what = "; ".join(f"{_verb(c)} {dotted(c.path)}" + _value(c) for c in edits)
        out.append(Finding(obj.ref, RULE, "info", f"{ns} is a protected namespace: not changed; {mutator} would "
                           f"{what}", edits[0].path, obj.line(edits[0].path), "info",
                           "the cluster's own namespaces are left as their operator runs them (profile: "
                           "protectedNamespaces)", {"mutator": mutator}))
    return out


class Held:
    """What generators would do to protected objects: each edits a copy (`twin`) and records into `changes(obj)`,
    which `report()` turns into notes."""

    def __init__(self) -> None:
        self.twins: dict[ObjectRef, tuple[KObject, KObject, list[Change]]] = {}  # ref -> (object, copy, its edits)

    def _entry(self, obj: KObject) -> tuple[KObject, KObject, list[Change]]:
        if obj.ref not in self.twins:
            self.twins[obj.ref] = (obj, KObject(obj.ref, copy.deepcopy(obj.data), obj.doc), [])
        return self.twins[obj.ref]

    def twin(self, obj: KObject) -> KObject:
        return self._entry(obj)[1]

    def changes(self, obj: KObject) -> list[Change]:
        return self._entry(obj)[2]

    def report(self) -> list[Finding]:
        return [f for obj, _, changes in self.twins.values() for f in report(obj, changes)]


def dropped(generated: dict[str, Any], generator: str) -> Finding:
    """The note for a generated object kharden keeps out of a protected namespace."""
    meta = generated.get("metadata") or {}
    label = f"{generated.get('kind')}/{meta.get('namespace')}/{meta.get('name')}"
    return Finding(None, RULE, "info", f"{meta.get('namespace')} is a protected namespace: {generator} would "
                   f"generate {label}; not generated", status="info",
                   reason="the cluster's own namespaces are left as their operator runs them (profile: "
                   "protectedNamespaces)")


def _verb(c: Change) -> str:
    return {"add": "set", "replace": "change", "remove": "remove"}[c.op]


def _value(c: Change) -> str:
    if c.op == "remove":
        return ""
    text = repr(c.new) if not isinstance(c.new, (dict, list)) else "{...}" if isinstance(c.new, dict) else "[...]"
    return f" = {text}" if len(text) <= 60 else " = ..."
