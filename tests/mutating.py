"""Helpers for mutator, opt-out and profile tests: run the mutate stage on a small manifest."""

from __future__ import annotations

import dataclasses
from typing import Any

from kharden import pipeline
from kharden.model import Change, Finding
from kharden.profile import Profile, load_profile, options
from kharden.read import parse_text
from kharden.render.splice import render, verify


@dataclasses.dataclass
class Run:
    text: str  # the rendered output
    data: list[Any]  # each object's data after mutation
    changes: list[Change]
    findings: list[Finding]

    def paths(self, mutator: str | None = None) -> list[tuple[Any, ...]]:
        return [c.path for c in self.changes if mutator is None or c.mutator == mutator]


def profile(base: str = "restricted", only: list[str] | None = None, **opts: dict[str, Any]) -> Profile:
    """A built-in profile, optionally with only some mutators enabled and some options overridden."""
    prof = load_profile(base)
    mutators = {}
    for mid, o in prof.mutators.items():
        if only is not None:
            o = dataclasses.replace(o, enabled=mid in only)
        mutators[mid] = options(o, opts.get(mid, {}), f"mutators.{mid}")
    return dataclasses.replace(prof, mutators=mutators)


def mutate(text: str, prof: Profile | str = "restricted") -> Run:
    prof = load_profile(prof) if isinstance(prof, str) else prof
    source = parse_text(text, "t.yaml")
    objects = list(source.objects())
    changes: list[Change] = []
    findings: list[Finding] = []
    pipeline.mutate(objects, prof, changes, findings)
    out = render(source, changes)
    verify(source, out)
    return Run(out, [o.data for o in objects], changes, findings)


def twice(text: str, prof: Profile | str = "restricted") -> Run:
    """Mutate, then mutate the output again and assert the second run changes nothing."""
    first = mutate(text, prof)
    again = mutate(first.text, prof)
    assert again.changes == [], [(c.mutator, c.path) for c in again.changes]
    assert again.text == first.text
    return first


def container(run: Run, index: int = 0, kind: str = "containers", obj: int = 0) -> dict[str, Any]:
    data = run.data[obj]
    spec = data["spec"] if data["kind"] == "Pod" else data["spec"]["template"]["spec"]
    return spec[kind][index]  # type: ignore[no-any-return]


def pod_spec(run: Run, obj: int = 0) -> dict[str, Any]:
    data = run.data[obj]
    return data["spec"] if data["kind"] == "Pod" else data["spec"]["template"]["spec"]  # type: ignore[no-any-return]
