"""The pipeline over a chosen subset of the input's objects, for edges whose input holds objects that are not
deployed (kpt's local-config Kptfile) or must not feed generators (Helm hooks).

It is `kharden.pipeline.harden` with two knobs; tests compare both edges with `kharden fix` so they cannot drift.
"""

from __future__ import annotations

from typing import Callable

from kharden.pipeline import Result, generate, mutate, unfixed
from kharden.profile import Profile
from kharden.read import KObject, Source


def harden(
    sources: list[Source],
    objects: list[KObject],
    profile: Profile,
    generate_: bool | None,
    hidden_from_generators: Callable[[KObject], bool] = lambda o: False,
) -> Result:
    """Mutate `objects` (only those); generators see only the ones not hidden; report what is left unfixed."""
    from kharden.run import validate

    validate(sources, profile)  # ill-shaped input is refused here as in `kharden fix`
    result = Result(sources, objects)
    mutate(objects, profile, result.changes, result.findings)
    visible = [o for o in objects if not hidden_from_generators(o)]
    generate(Result(sources, visible, result.changes, result.findings, result.generated), profile, generate_)
    result.findings += unfixed(objects, profile, result.findings)
    return result


def annotation(obj: KObject, key: str) -> object:
    meta = obj.data.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    return annotations.get(key) if isinstance(annotations, dict) else None
