"""Holes in an `audit.k8s.io/v1` Policy (the API server's `--audit-policy-file`).

Rules are matched first to last; the first that matches a request decides its level
(https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/#audit-policy).

| rule id | severity | what |
|---|---|---|
| `audit.secrets-body` | error | the first rule that can match a Secret (or ConfigMap/TokenReview) logs it at Request or RequestResponse: the log then holds credentials |
| `audit.no-catch-all` | warning | the last rule is not a catch-all: requests no rule names are not logged at all |
| `audit.no-rules` | error | a Policy without rules logs nothing |
| `audit.request-received` | info | `omitStages` lacks RequestReceived: every request is logged twice |
"""

from __future__ import annotations

from typing import Any, Iterator

from kharden.model import Finding, Path, Severity, Status
from kharden.read import KObject

BODY = ("Request", "RequestResponse")
SENSITIVE = {"secrets": "", "configmaps": "", "tokenreviews": "authentication.k8s.io"}
CONDITIONS = ("users", "userGroups", "verbs", "namespaces")


def check_audit_policies(objects: list[KObject], status: Status = "open") -> list[Finding]:
    out: list[Finding] = []
    for obj in objects:
        if obj.ref.kind == "Policy" and obj.ref.api_version.startswith("audit.k8s.io/"):
            out += list(_check(obj, status))
    return out


def _f(obj: KObject, rule: str, sev: Severity, msg: str, path: Path, status: Status, reason: str) -> Finding:
    return Finding(obj.ref, rule, sev, msg, path, obj.line(path), status=status, reason=reason)


def covers(rule: dict[str, Any], resource: str, group: str) -> bool:
    """Can this rule match a request for `resource` in `group`?"""
    if rule.get("nonResourceURLs") and not rule.get("resources"):
        return False
    groups = rule.get("resources")
    if not groups:
        return True
    for g in groups if isinstance(groups, list) else []:
        if isinstance(g, dict) and str(g.get("group", "")) in (group, "*"):
            names = g.get("resources") or []
            if not names or resource in names or "*" in names:
                return True
    return False


def _unconditional(rule: dict[str, Any]) -> bool:
    return not any(rule.get(k) for k in CONDITIONS)


def _check(obj: KObject, status: Status) -> Iterator[Finding]:
    rules = [r for r in obj.data.get("rules") or [] if isinstance(r, dict)]
    if not rules:
        yield _f(obj, "audit.no-rules", "error", "the Policy has no rules: nothing is logged", ("rules",), status,
                 "start from `kharden generate audit-policy`")
        return
    leaking: dict[int, list[str]] = {}  # rule index -> the sensitive resources it is the first to log bodies of
    for resource, group in SENSITIVE.items():
        for i, rule in enumerate(rules):
            if not covers(rule, resource, group):
                continue
            if rule.get("level") in BODY:
                leaking.setdefault(i, []).append(resource)
                break
            if _unconditional(rule):
                break
    for i, resources in leaking.items():
        shown = ", ".join(resources)
        yield _f(obj, "audit.secrets-body", "error", f"rules[{i}] logs {shown} at {rules[i].get('level')}: their "
                 "contents (credentials) end up in the audit log", ("rules", i, "level"), status,
                 f"log {shown} at Metadata in a rule before this one")
    last = rules[-1]
    if not (_unconditional(last) and not last.get("resources") and not last.get("nonResourceURLs")):
        yield _f(obj, "audit.no-catch-all", "warning", "the last rule is not a catch-all: requests no rule names "
                 "are not logged", ("rules", len(rules) - 1), status, "end with `- level: Metadata`")
    omit = obj.data.get("omitStages")
    if "RequestReceived" not in (omit if isinstance(omit, list) else []):
        yield _f(obj, "audit.request-received", "info", "omitStages lacks RequestReceived: each request is logged "
                 "at RequestReceived and again at ResponseComplete", ("omitStages",) if omit else (), status,
                 "add omitStages: [RequestReceived]")
