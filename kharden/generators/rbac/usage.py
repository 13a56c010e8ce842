"""Who uses which ServiceAccount, and what API access each one needs: declared (annotation) and logged (audit log).

Requests the audit log shows for the shared `default` ServiceAccount are attributed to the workload that moved off
it, by the pod name bound tokens carry (`web-7d4b9c8f6d-x2x9q` is Deployment `web`); without a pod name they
cannot be attributed and are reported instead of being granted to a guess.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kharden.errors import InputError
from kharden.find import PodTarget
from kharden.generators.rbac.access import AccessSyntaxError, parse_access
from kharden.generators.rbac.auditlog import Request, read_audit_log
from kharden.generators.rbac.build import cluster_scoped
from kharden.generators.rbac.rules import Use
from kharden.model import Finding, Severity
from kharden.read import KObject

Key = tuple[str | None, str]  # (namespace, or None when the input leaves it to `kubectl -n`; name)


@dataclass
class Account:
    """A ServiceAccount the output has: from the input (`obj`) or generated (`generated_for`)."""

    namespace: str | None
    name: str
    obj: KObject | None = None
    generated_for: str | None = None
    moved: list[Key] = field(default_factory=list)  # workloads (namespace, name) moved here off `default`
    needs: list[str] = field(default_factory=list)  # why it needs the API
    # (cluster-wide, namespace, use, declared): declared uses keep every name, logged ones at most one
    grants: list[tuple[bool, str | None, Use, bool]] = field(default_factory=list)


def account_of(spec: dict[str, Any]) -> str:
    """The ServiceAccount a pod spec runs as (`serviceAccount` is the deprecated spelling)."""
    return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")


def find_account(accounts: dict[Key, Account], namespace: str | None, name: str) -> Account | None:
    """The account of that name in `namespace`, or one whose namespace the input leaves to `kubectl -n`."""
    return accounts.get((namespace, name)) or accounts.get((None, name))


def collect_access(workloads: list[PodTarget], accounts: dict[Key, Account], key: str, findings: list[Finding]) -> None:
    """Grants declared by each workload's access annotation, added to the account it runs as."""
    for target in workloads:
        obj = target.obj
        text = target.annotations.get(key)
        if text is None:
            continue
        path = _annotation_path(target, key)
        line = obj.line(path)
        if not isinstance(text, str):
            raise InputError(
                f"{obj.ref.label()}: {key} must be a string", file=obj.ref.file, doc=obj.ref.doc, line=line
            )
        try:
            grants = parse_access(text)
        except AccessSyntaxError as e:
            raise InputError(f"{obj.ref.label()}: {key}: {e}", file=obj.ref.file, doc=obj.ref.doc, line=line) from None
        acc = find_account(accounts, obj.ref.namespace, account_of(target.spec))
        assert acc is not None  # every workload's account was registered first
        acc.needs.append(f"{obj.ref.label()} declares {key}")
        source = f"{obj.ref.label()} {key} ({obj.ref.file}:{line})"
        for g in grants:
            cluster = cluster_scoped(g.group, g.resource)
            for verb in g.verbs:
                use = Use(verb, g.group, g.resource, g.name, source)
                acc.grants.append((cluster, None if cluster else obj.ref.namespace, use, True))
        if target.spec.get("automountServiceAccountToken") is False:
            findings.append(_finding(obj, "rbac.token-disabled", f"{obj.ref.label()} declares {key} but sets "
                                     "automountServiceAccountToken: false; it needs a token (or a projected one)",
                                     target.spec_path + ("automountServiceAccountToken",)))


def _annotation_path(target: PodTarget, key: str) -> tuple[str | int, ...]:
    template = target.meta_path + ("annotations", key)
    node: Any = target.obj.data
    for p in template:
        node = node.get(p) if isinstance(node, dict) else None
    return template if node is not None else ("metadata", "annotations", key)


def _finding(obj: KObject, rule: str, message: str, path: tuple[str | int, ...]) -> Finding:
    return Finding(obj.ref, rule, "warning", message, path, obj.line(path))


def observed_access(path: str, accounts: dict[Key, Account], findings: list[Finding]) -> None:
    """Grants for what the audit log shows each ServiceAccount doing; the rest reported."""
    notes: dict[tuple[str, str], list[int]] = defaultdict(list)  # (rule, message) -> lines
    for req in read_audit_log(path):
        acc = _attribute(req, accounts)
        if acc is None:
            why = _unattributed(req)
            notes[("rbac.audit-unknown-account", f"requests by {req.sa_user} ignored: {why}")] += req.lines
        elif req.group is None:
            notes[("rbac.audit-nonresource", f"{req.sa_user} {req.verb} {req.resource}: non-resource URL, "
                   "no rule generated")] += req.lines
        elif req.impersonated:
            notes[("rbac.audit-impersonation", f"{req.sa_user} acted as {req.impersonated}: {req.verb} "
                   f"{_what(req)} used that user's rights; not granted")] += req.lines
        elif req.forbidden:
            notes[("rbac.audit-forbidden", f"{req.sa_user} was denied {req.verb} {_what(req)}: not granted; "
                   "declare it with the access annotation if it is needed")] += req.lines
        else:
            _grant(acc, req, path, notes)
    for (rule, message), lines in sorted(notes.items()):
        severity: Severity = "warning" if rule == "rbac.audit-all-namespaces" else "info"  # a cluster-wide grant
        findings.append(Finding(None, rule, severity, f"{path}:{_short(lines)}: {message}", status="info",
                                extra={"file": path, "lines": sorted(set(lines))}))


def _grant(acc: Account, req: Request, path: str, notes: dict[tuple[str, str], list[int]]) -> None:
    assert req.group is not None
    cluster = req.namespace is None or cluster_scoped(req.group, req.resource)
    if req.namespace is None and not cluster_scoped(req.group, req.resource):
        notes[("rbac.audit-all-namespaces", f"{req.sa_user} {req.verb} {_what(req)} in all namespaces: "
               "granted by a ClusterRole")] += req.lines
    if not any("audit log" in n for n in acc.needs):
        acc.needs.append(f"the audit log {path} shows it calling the API")
    for line in req.lines:
        use = Use(req.verb, req.group, req.resource, req.name, path, line)
        acc.grants.append((cluster, None if cluster else req.namespace, use, False))


def _attribute(req: Request, accounts: dict[Key, Account]) -> Account | None:
    """The account a request's permissions belong to after kharden's changes."""
    if req.sa_name != "default":
        return find_account(accounts, req.sa_namespace, req.sa_name)
    if req.pod is None:
        return None
    best: tuple[int, Account] | None = None
    for acc in accounts.values():
        for ns, workload in acc.moved:
            if ns in (None, req.sa_namespace) and (req.pod == workload or req.pod.startswith(workload + "-")):
                if best is None or len(workload) > best[0]:
                    best = (len(workload), acc)
    return best[1] if best else None


def _unattributed(req: Request) -> str:
    if req.sa_name != "default":
        return "it is not in the input"
    if req.pod is None:
        return "no pod name to attribute them to a workload by"
    return f"pod {req.pod} belongs to no workload of the input that ran as default"


def _what(req: Request) -> str:
    """`deployments.apps/scale web`: the form the access annotation takes."""
    resource, _, sub = req.resource.partition("/")
    group = f".{req.group}" if req.group else ""
    return resource + group + (f"/{sub}" if sub else "") + (f" {req.name}" if req.name else "")


def _short(lines: list[int]) -> str:
    ordered = sorted(set(lines))
    return ",".join(map(str, ordered[:10])) + (",..." if len(ordered) > 10 else "")
