"""One finding per problem, graded by the decision `kharden fix` makes: what `check --profile` reports.

`check --profile restricted` used to print a Pod Security Standards violation and then, as a second finding, the
`kharden.*` change that mends it ("containers must drop ALL capabilities" beside `pss.capabilities_restricted`).
Here the two are one finding: the PSS one, which names the control. Its grade comes from fix itself:

    before   the PSS findings on the input: the problems
    left     the PSS findings on the input as fix leaves it (same level and version), each with fix's reason
    pending  fix's changes as `fixable` findings, one per change (kharden.pipeline._pending)

A problem fix mends is `fixable` (would-fix); one it leaves is `unfixed` (a violation) with the reason. Either
carries, in `extra["fixes"]`, the changes of the mutator that serves its control (kharden.checks.pss.FIXED_BY) on
its object and container: fix makes them whatever the outcome. A change that mends no PSS problem (resources, a
read-only root, a default that PSS does not require) stays a finding of its own, would-fix.

    before:  pss.capabilities_restricted  container "web" must set capabilities.drop=["ALL"]
             kharden.capabilities         containers must drop ALL capabilities (PSS restricted)
    after:   pss.capabilities_restricted  container "web" must set capabilities.drop=["ALL"]   would-fix
             (extra["fixes"]: the kharden.capabilities change)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kharden.checks.pss.fixability import FIXED_BY
from kharden.model import Finding, Path, Status
from kharden.read import KObject

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

Key = tuple[Any, str, Any]


def _key(f: Finding) -> Key:
    return (f.obj, f.rule, f.extra.get("container"))


def container_of(obj: KObject, path: Path) -> str | None:
    """The name of the container a path lies in, or None for a pod-level (or object-level) path."""
    node: Any = obj.data
    for i, step in enumerate(path):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return None
        if i and path[i - 1] in _CONTAINER_LISTS and isinstance(step, int):
            return node.get("name") if isinstance(node, dict) else None
    return None


def one_per_problem(before: list[Finding], left: list[Finding], pending: list[Finding],
                    objects: dict[Any, KObject]) -> tuple[list[Finding], list[Finding]]:
    """(the PSS findings graded, each with the changes that serve it; the changes that serve none)."""
    remaining: dict[Key, list[Finding]] = {}
    for f in left:
        remaining.setdefault(_key(f), []).append(f)
    grades: list[tuple[Status, str]] = []  # (status, reason) of each finding of `before`: fix leaves it (with fix's reason), or mends it
    for f in before:
        after = remaining.get(_key(f))
        grades.append(("unfixed", after.pop(0).reason) if after else ("fixable", ""))
    spare: list[Finding] = []
    fixes: dict[int, list[Finding]] = {}
    by_fixer: dict[Any, list[tuple[int, Any, str]]] = {}  # a change looks only at its object's findings of its mutator
    for i, f in enumerate(before):
        by_fixer.setdefault((f.obj, FIXED_BY.get(f.rule)), []).append((i, f.extra.get("container"), grades[i][0]))
    for p in pending:
        home = _home(p, by_fixer.get((p.obj, p.rule.removeprefix("kharden.")), []), objects)
        if home is None:
            spare.append(p)
        else:
            fixes.setdefault(home, []).append(p)
    graded = [replace(f, status=status, reason=reason, extra={**f.extra, "fixes": fixes[i]} if i in fixes else f.extra)
              for i, (f, (status, reason)) in enumerate(zip(before, grades))]
    return graded, spare


def _home(change: Finding, graded: list[tuple[int, Any, str]], objects: dict[Any, KObject]) -> int | None:
    """The PSS finding a change serves, among `graded` (place, container, status of those of its object whose
    control its mutator fixes): the one of its container (a pod-level finding takes the changes of every
    container). Fixed ones first: a change mends before it helps."""
    container: Any = ...
    candidates = []
    for i, wanted, status in graded:  # in order
        if wanted is not None:
            if container is ...:
                container = container_of(objects[change.obj], change.path)
            if container != wanted:
                continue
        candidates.append((status != "fixable", i))
    return min(candidates)[1] if candidates else None


def fixes_of(f: Finding) -> list[Finding]:
    """The changes fix makes for a finding: itself for a change of its own, else those it carries."""
    return [f] if f.status == "fixable" and not f.extra.get("fixes") and f.rule.startswith("kharden.") else list(
        f.extra.get("fixes") or [])
