"""Turn observed or declared API uses into compact, deterministic RBAC `rules`.

A `Use` is one (verb, group, resource, name) a ServiceAccount needs, with where we learnt it. `build_rules`
groups them into PolicyRules:

  * per (group, resource) and verb, the names seen; a verb keeps `resourceNames` only when every use of it named
    an object, it is not `create`/`deletecollection`/`list`/`watch`, and at most `max_names` names were seen
    (1 for audit logs: one name seen is a fact, two are a sample of an open set; unlimited for declarations);
  * verbs with the same names on the same resource share a rule; rules with the same group, verbs and names
    share one rule across resources;
  * every rule keeps the sources that produced it, so the generated object can say why each rule exists.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from kharden.generators.rbac.access import UNNAMEABLE, verb_order


@dataclass(frozen=True)
class Use:
    """One verb on one resource (with "/subresource"), optionally one named object, and its source."""

    verb: str
    group: str
    resource: str
    name: str | None
    source: str  # e.g. "audit.log" or "Deployment/web kharden.dev/access (app.yaml:12)"
    line: int | None = None  # audit log line, merged into ranges per source


@dataclass
class Rule:
    group: str
    resources: list[str]
    verbs: list[str]
    names: list[str]
    sources: dict[str, set[int]]

    def as_dict(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"apiGroups": [self.group], "resources": list(self.resources)}
        if self.names:
            rule["resourceNames"] = list(self.names)
        rule["verbs"] = list(self.verbs)
        return rule

    def source_text(self) -> str:
        parts = []
        for source in sorted(self.sources):
            lines = self.sources[source]
            parts.append(f"{source} {_line_ranges(lines)}" if lines else source)
        return "; ".join(parts)


def build_rules(uses: list[Use], max_names: int | None) -> list[Rule]:
    """Compact PolicyRules for the uses, sorted by group, resources, verbs and names."""
    # (group, resource) -> verb -> (names, any use without a name, sources)
    seen: dict[tuple[str, str], dict[str, tuple[set[str], list[bool], dict[str, set[int]]]]] = defaultdict(dict)
    for u in uses:
        names, unnamed, sources = seen[(u.group, u.resource)].setdefault(u.verb, (set(), [False], {}))
        if u.name is None:
            unnamed[0] = True
        else:
            names.add(u.name)
        lines = sources.setdefault(u.source, set())
        if u.line is not None:
            lines.add(u.line)
    merged: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Rule] = {}
    for (group, resource), verbs in sorted(seen.items()):
        by_names: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for verb, (names, unnamed, _) in verbs.items():
            keep = not unnamed[0] and verb not in UNNAMEABLE and (max_names is None or len(names) <= max_names)
            by_names[tuple(sorted(names)) if keep else ()].append(verb)
        for names_key, vs in by_names.items():
            key = (group, tuple(sorted(vs, key=verb_order)), names_key)
            rule = merged.setdefault(key, Rule(group, [], list(key[1]), list(names_key), {}))
            rule.resources.append(resource)
            for v in vs:
                for source, lines in verbs[v][2].items():
                    rule.sources.setdefault(source, set()).update(lines)
    rules = list(merged.values())
    for r in rules:
        r.resources.sort()
    rules.sort(key=lambda r: (r.group, r.resources, [verb_order(v) for v in r.verbs], r.names))
    return rules


def _line_ranges(lines: set[int]) -> str:
    """'line 3' / 'lines 3-5,9': compact, so an annotation stays readable for a long log."""
    ordered = sorted(lines)
    spans: list[str] = []
    start = prev = ordered[0]
    for n in ordered[1:]:
        if n != prev + 1:
            spans.append(str(start) if start == prev else f"{start}-{prev}")
            start = n
        prev = n
    spans.append(str(start) if start == prev else f"{start}-{prev}")
    return ("line " if len(ordered) == 1 else "lines ") + ",".join(spans)
