"""Risky RBAC in the input: `check_rbac(objects) -> [Finding]`.

Each finding points at the offending list entry (`rules[0].verbs[2]`, `subjects[0]`) with its line.

| rule id | severity | what |
|---|---|---|
| `rbac.wildcard-verb` | error | `verbs: ["*"]`: every verb, including escalate, bind and impersonate |
| `rbac.wildcard-resource` | error / warning | `resources: ["*"]` (error); `*/finalizers`, `pods/*` (warning) |
| `rbac.wildcard-apigroup` | warning | `apiGroups: ["*"]`: the rule follows every CRD installed later |
| `rbac.wildcard-nonresource` | warning | `nonResourceURLs: ["*"]` or a `/prefix*` |
| `rbac.escalate` / `rbac.bind` | error | grant or bind permissions the holder does not have |
| `rbac.impersonate` | error | act as any user, group or ServiceAccount |
| `rbac.secrets-read` | warning / info | `get`/`list`/`watch` secrets (info for `get` restricted by `resourceNames`) |
| `rbac.pods-exec` | error | `create`/`get` on `pods/exec` or `pods/attach`: run commands in pods |
| `rbac.nodes-proxy` | error | `nodes/proxy`: the kubelet API, bypassing admission and audit |
| `rbac.serviceaccount-token` | error | `create serviceaccounts/token`: mint tokens for other ServiceAccounts |
| `rbac.cluster-admin-binding` | error | `cluster-admin` bound to a ServiceAccount (ClusterRoleBinding or RoleBinding) |

A rule whose resources are `*` is reported once as a wildcard, not again for every risky resource it covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from kharden.model import Finding, Path, Severity
from kharden.read import KObject

RBAC_GROUP = "rbac.authorization.k8s.io"
CORE = ("", "*")


@dataclass(frozen=True)
class Risk:
    """A risky (resource, verbs) pair: matched on explicit resources in the core group (or `*` group)."""

    rule: str
    resources: frozenset[str]
    verbs: frozenset[str] | None  # None: any verb
    severity: Severity
    why: str


RISKS = (
    Risk("rbac.secrets-read", frozenset({"secrets"}), frozenset({"get", "list", "watch", "*"}), "warning",
         "reads Secrets: every credential in its scope"),
    Risk("rbac.pods-exec", frozenset({"pods/exec", "pods/attach"}), frozenset({"create", "get", "*"}), "error",
         "runs commands in pods (and so acts with their ServiceAccounts)"),
    Risk("rbac.nodes-proxy", frozenset({"nodes/proxy"}), None, "error",
         "reaches the kubelet API, which bypasses admission control and audit"),
    Risk("rbac.serviceaccount-token", frozenset({"serviceaccounts/token"}), frozenset({"create", "*"}), "error",
         "mints tokens for ServiceAccounts, and so acts as any of them"),
)
DANGEROUS_VERBS = {
    "escalate": "grants permissions it does not hold (edits Roles beyond its own rights)",
    "bind": "binds Roles it does not hold, to anyone",
    "impersonate": "acts as other users, groups or ServiceAccounts",
}


def check_rbac(objects: list[KObject]) -> list[Finding]:
    """Findings for risky rules in Roles/ClusterRoles and cluster-admin bindings to ServiceAccounts."""
    findings: list[Finding] = []
    for obj in objects:
        if not obj.ref.api_version.startswith(RBAC_GROUP + "/"):
            continue
        if obj.ref.kind in ("Role", "ClusterRole"):
            rules = obj.data.get("rules")
            for i, rule in enumerate(rules if isinstance(rules, list) else []):
                if isinstance(rule, dict):
                    findings += _check_rule(obj, i, rule)
        elif obj.ref.kind in ("RoleBinding", "ClusterRoleBinding"):
            findings += _check_binding(obj)
    return findings


def _strings(rule: dict[str, Any], key: str) -> list[str]:
    value = rule.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _finding(obj: KObject, rule: str, severity: Severity, message: str, path: Path) -> Finding:
    return Finding(obj.ref, rule, severity, f"{obj.ref.label()}: {message}", path, obj.line(path))


def _check_rule(obj: KObject, i: int, rule: dict[str, Any]) -> list[Finding]:
    found = list(_wildcards(obj, i, rule)) + list(_verbs(obj, i, rule)) + list(_resources(obj, i, rule))
    return sorted(found, key=lambda f: (f.line or 0, f.rule))  # in the order a reader meets them


def _wildcards(obj: KObject, i: int, rule: dict[str, Any]) -> Iterator[Finding]:
    base: Path = ("rules", i)
    for k, verb in enumerate(_strings(rule, "verbs")):
        if verb == "*":
            yield _finding(obj, "rbac.wildcard-verb", "error", f"rules[{i}] allows every verb ('*')",
                           base + ("verbs", k))
    for k, res in enumerate(_strings(rule, "resources")):
        if "*" in res:
            sev: Severity = "error" if res == "*" else "warning"
            yield _finding(obj, "rbac.wildcard-resource", sev, f"rules[{i}] covers resources {res!r}",
                           base + ("resources", k))
    for k, group in enumerate(_strings(rule, "apiGroups")):
        if group == "*":
            yield _finding(obj, "rbac.wildcard-apigroup", "warning",
                           f"rules[{i}] covers every API group ('*'), including CRDs installed later",
                           base + ("apiGroups", k))
    for k, url in enumerate(_strings(rule, "nonResourceURLs")):
        if url.endswith("*"):
            yield _finding(obj, "rbac.wildcard-nonresource", "warning",
                           f"rules[{i}] covers non-resource URLs {url!r}", base + ("nonResourceURLs", k))


def _verbs(obj: KObject, i: int, rule: dict[str, Any]) -> Iterator[Finding]:
    for k, verb in enumerate(_strings(rule, "verbs")):
        if verb in DANGEROUS_VERBS:
            yield _finding(obj, f"rbac.{verb}", "error", f"rules[{i}] allows {verb!r}: {DANGEROUS_VERBS[verb]}",
                           ("rules", i, "verbs", k))


def _resources(obj: KObject, i: int, rule: dict[str, Any]) -> Iterator[Finding]:
    if not any(g in CORE for g in _strings(rule, "apiGroups")):
        return
    verbs = set(_strings(rule, "verbs"))
    named = bool(_strings(rule, "resourceNames"))
    for k, res in enumerate(_strings(rule, "resources")):
        for risk in RISKS:
            if res not in risk.resources:
                continue
            hit = verbs if risk.verbs is None else verbs & risk.verbs
            if not hit:
                continue
            severity, why = risk.severity, risk.why
            if risk.rule == "rbac.secrets-read" and named and hit == {"get"}:
                # get on named Secrets is what least privilege looks like: noted, not warned about
                severity, why = "info", "reads only the Secrets named in resourceNames"
            shown = ", ".join(sorted(hit))
            yield _finding(obj, risk.rule, severity, f"rules[{i}] allows {shown} on {res}: {why}",
                           ("rules", i, "resources", k))


def _check_binding(obj: KObject) -> Iterator[Finding]:
    ref = obj.data.get("roleRef")
    if not isinstance(ref, dict) or ref.get("kind") != "ClusterRole" or ref.get("name") != "cluster-admin":
        return
    subjects = obj.data.get("subjects")
    for j, s in enumerate(subjects if isinstance(subjects, list) else []):
        if not isinstance(s, dict):
            continue
        who = _service_accounts(s, obj.ref.namespace)
        if who:
            cluster = obj.ref.kind == "ClusterRoleBinding"
            scope = "the whole cluster" if cluster else f"namespace {obj.ref.namespace or '(unset)'}"
            yield _finding(obj, "rbac.cluster-admin-binding", "error",
                           f"binds cluster-admin to {who}: full control of {scope} for any pod using it",
                           ("subjects", j))


def _service_accounts(subject: dict[str, Any], namespace: str | None) -> str | None:
    """How to name the ServiceAccounts a subject stands for, or None when it is not about ServiceAccounts."""
    name = str(subject.get("name", ""))
    if subject.get("kind") == "ServiceAccount":
        ns = subject.get("namespace") or namespace
        return f"ServiceAccount {ns}/{name}" if ns else f"ServiceAccount {name}"
    if subject.get("kind") == "Group" and name.startswith("system:serviceaccounts"):
        return f"every ServiceAccount in group {name}"
    return None
