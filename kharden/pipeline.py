"""The pipeline: read -> find pod specs -> mutate -> generate -> (render elsewhere).

Pure: takes parsed sources and a profile, edits the live objects, returns the record. No I/O, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kharden.find import find_pod_targets
from kharden.generators import GENERATORS
from kharden.model import Change, Finding
from kharden.mutators import MUTATORS
from kharden.mutators.base import Editor
from kharden.profile import Profile
from kharden.read import KObject, Source


@dataclass
class Result:
    sources: list[Source]
    objects: list[KObject]
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    generated: list[dict[str, Any]] = field(default_factory=list)


def mutate(objects: list[KObject], profile: Profile, changes: list[Change], findings: list[Finding]) -> None:
    from kharden.mutators import optouts

    for obj in objects:
        targets = find_pod_targets(obj, profile.pod_templates)
        for mid in profile.enabled_mutators():
            mutator = MUTATORS[mid]
            opts = profile.mutators[mid]
            for target in targets if mutator.SCOPE == "pod" else [obj]:
                optouts.run(mutator, target, obj, opts, changes, findings)


def harden(sources: list[Source], profile: Profile, *, generate: bool | None = None, **gen_args: Any) -> Result:
    result = Result(sources, [o for s in sources for o in s.objects()])
    mutate(result.objects, profile, result.changes, result.findings)
    for gid, opts in profile.generators.items():
        enabled = opts.get("enabled") if generate is None else generate and opts.get("enabled", True)
        if enabled:
            out = GENERATORS[gid].generate(
                result.objects, opts, lambda o, g=gid: Editor(o, g, result.changes), **gen_args
            )
            result.generated += out.objects
            result.findings += out.findings
    return result
