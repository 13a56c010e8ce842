"""`who-can` and `can-i` answers as text, JSON and markdown: all from the one list of Grants."""

from __future__ import annotations

import json
from typing import Any

from kharden.rbac.authz import Grant, Request, User


def grant_dict(g: Grant) -> dict[str, Any]:
    rule = g.rule
    return {
        "subject": {"kind": g.subject.get("kind"), "name": g.subject_name()},
        "scope": g.scope,
        "binding": {"kind": g.binding.ref.kind, "name": g.binding.ref.name, "namespace": g.binding.ref.namespace,
                    "file": g.binding.ref.file, "line": g.binding.line()},
        "role": {"kind": rule.role.ref.kind, "name": rule.role.ref.name, "namespace": rule.role.ref.namespace,
                 "file": rule.role.ref.file, "line": rule.role.line(("rules", rule.index))},
        "rule": {"index": rule.index, **{k: v for k, v in rule.data.items()}},
    }


def _via(g: Grant) -> str:
    bound = g.binding.data.get("roleRef") or {}
    aggregated = rule_role = g.rule.role.ref.label()
    if isinstance(bound, dict) and bound.get("name") != g.rule.role.ref.name:
        aggregated = f"ClusterRole/{bound.get('name')} (aggregates {rule_role})"
    return f"{g.binding.ref.label()} ({g.binding.where()}) -> {aggregated} rules[{g.rule.index}]"


def who_can_text(req: Request, grants: list[Grant], unresolved: list[str]) -> str:
    lines = [f"who can {req.describe()}{_every(grants, req)}:"]
    if not grants:
        lines.append("  no subject in the input")
    for g in grants:
        lines.append(f"  {g.subject.get('kind', '?'):14} {g.subject_name():50} [{g.scope}] via {_via(g)}")
    lines += [f"  note: {u}" for u in unresolved]
    return "\n".join(lines) + "\n"


def _every(grants: list[Grant], req: Request) -> str:
    """Say so when RoleBindings of other namespaces answered a cluster-wide question (-A)."""
    if not req.namespace and any(g.binding.ref.kind == "RoleBinding" for g in grants):
        return " (or in the namespaces of the RoleBindings listed)"
    return ""


def who_can_markdown(req: Request, grants: list[Grant], unresolved: list[str]) -> str:
    lines = [f"### Who can {req.describe()}{_every(grants, req)}", "", "| subject kind | subject | scope | binding | role rule |",
             "|---|---|---|---|---|"]
    for g in grants:
        lines.append(f"| {g.subject.get('kind')} | `{g.subject_name()}` | {g.scope} | {g.binding.ref.label()} "
                     f"(`{g.binding.where()}`) | {g.rule.role.ref.label()} rules[{g.rule.index}] |")
    if not grants:
        lines.append("| | no subject in the input | | | |")
    if unresolved:
        lines += ["", "Not resolved offline:", ""] + [f"- {u}" for u in unresolved]
    return "\n".join(lines) + "\n"


def who_can_json(req: Request, grants: list[Grant], unresolved: list[str]) -> str:
    return json.dumps({"request": req.__dict__, "grants": [grant_dict(g) for g in grants],
                       "unresolved": unresolved}, indent=2) + "\n"


def can_i_text(user: User, req: Request, grants: list[Grant]) -> str:
    if not grants:
        return f"no: {user.name} (groups {', '.join(user.groups)}) cannot {req.describe()}\n"
    return f"yes: {user.name} can {req.describe()}\n" + "".join(f"  via {_via(g)}\n" for g in grants)


def can_i_markdown(user: User, req: Request, grants: list[Grant]) -> str:
    head = f"**{'yes' if grants else 'no'}**: `{user.name}` {'can' if grants else 'cannot'} {req.describe()}"
    return head + "\n" + "".join(f"- via {_via(g)}\n" for g in grants)


def can_i_json(user: User, req: Request, grants: list[Grant]) -> str:
    return json.dumps({"allowed": bool(grants), "user": {"name": user.name, "groups": list(user.groups)},
                       "request": req.__dict__, "grants": [grant_dict(g) for g in grants]}, indent=2) + "\n"
