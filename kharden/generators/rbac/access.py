"""The `kharden.dev/access` annotation: a workload declares the Kubernetes API access it needs.

    metadata:
      annotations:
        kharden.dev/access: "get,list,watch configmaps; get secrets:app-tls; create events.events.k8s.io"

Grammar (whitespace around separators is free; clauses are separated by `;` or newlines):

    clause   := verbs targets
    verbs    := verb ("," verb)*              get list watch create update patch delete deletecollection
    targets  := target ("," target)*
    target   := resource ["." group] ["/" subresource] [":" name]

`resource.group/subresource` is the form `kubectl create role --resource` takes (`deployments.apps/scale`);
no group means the core group. `:name` restricts the target to one object (`resourceNames`); repeat the target
for more names (`get secrets:a,secrets:b`). A name is refused with `create`, `deletecollection`, `list` and
`watch`: those requests carry no object name, so a rule restricted by name would never match them. Wildcards are
refused: the annotation exists to declare least privilege.

Parsing is strict: anything else raises `AccessSyntaxError` naming the clause, which the generator turns into an
`InputError` with file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
UNNAMEABLE = frozenset({"create", "deletecollection", "list", "watch"})

_TARGET = re.compile(
    r"(?P<resource>[a-z][a-z0-9-]*)"
    r"(?:\.(?P<group>[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*))?"
    r"(?:/(?P<sub>[a-z][a-z0-9-]*))?"
    r"(?::(?P<name>[a-z0-9]([a-z0-9.-]*[a-z0-9])?))?"
)


class AccessSyntaxError(ValueError):
    """A clause of the access annotation that does not parse; the message says which and why."""


@dataclass(frozen=True, order=True)
class Access:
    """One parsed grant: verbs on group/resource[/subresource], optionally one object name."""

    group: str
    resource: str  # with "/subresource" when there is one, as RBAC spells it
    verbs: tuple[str, ...]
    name: str | None = None


def verb_order(verb: str) -> tuple[int, str]:
    """Sort key giving the conventional order get, list, watch, create, ..., then anything else by name."""
    return (VERBS.index(verb), "") if verb in VERBS else (len(VERBS), verb)


def parse_access(text: str) -> list[Access]:
    """Parse an access annotation value into grants, in the order written."""
    out: list[Access] = []
    clauses = [c.strip() for c in re.split(r"[;\n]", text)]
    for clause in clauses:
        if clause:
            out += _parse_clause(clause)
    if not out:
        raise AccessSyntaxError("declares no access; write e.g. 'get,list configmaps' or remove it")
    return out


def _parse_clause(clause: str) -> list[Access]:
    clause = re.sub(r"\s*,\s*", ",", clause)  # "get, list pods" reads as one verb list
    parts = clause.split(None, 1)
    if len(parts) != 2:
        raise AccessSyntaxError(f"{clause!r}: expected 'VERBS TARGETS', e.g. 'get,list configmaps'")
    verbs = _parse_verbs(parts[0], clause)
    targets = parts[1].split(",")
    out = []
    for target in targets:
        m = _TARGET.fullmatch(target)
        if m is None:
            raise AccessSyntaxError(
                f"{clause!r}: bad target {target!r}; expected resource[.group][/subresource][:name], "
                "e.g. 'deployments.apps', 'pods/log', 'secrets:app-tls'"
            )
        name = m.group("name")
        if name is not None:
            bad = sorted(UNNAMEABLE.intersection(verbs), key=verb_order)
            if bad:
                raise AccessSyntaxError(
                    f"{clause!r}: {', '.join(bad)} cannot be restricted to a name ({target!r}); "
                    "write a separate clause without ':name' for them"
                )
        resource = m.group("resource") + (f"/{m.group('sub')}" if m.group("sub") else "")
        out.append(Access(m.group("group") or "", resource, verbs, name))
    return out


def _parse_verbs(text: str, clause: str) -> tuple[str, ...]:
    verbs = [v.strip() for v in text.split(",")]
    for v in verbs:
        if v == "*":
            raise AccessSyntaxError(f"{clause!r}: '*' is not allowed; list the verbs the workload needs")
        if v not in VERBS:
            raise AccessSyntaxError(f"{clause!r}: unknown verb {v!r}; known: {', '.join(VERBS)}")
    return tuple(sorted(set(verbs), key=verb_order))
