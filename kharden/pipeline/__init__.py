"""The one pipeline every entry point calls: `run(Request) -> Result`.

    fix:    validate -> find pod specs -> know -> mutate -> generate -> unfixed -> splice each changed source
    check:  validate (per object) -> PSS, RBAC and API-version checks -> (with a profile) what it would change

Pure: it takes parsed sources and a profile, edits the live objects and returns the record (changes, findings,
generated objects) and the new texts. No I/O, no printing, no exit. The edges (kharden.cli, kharden.run,
kharden.integrations) read the input, build a Request, render the Result and choose the exit code.

Its stages, one module each: `request` (the typed Request and Result), `mutation`, `generation`, `left` (what is
left unfixed, and why), `checking` (`check` mode). This module runs them in order.
"""

from __future__ import annotations

from typing import Sequence

from kharden.model import Change
from kharden.know import learn
from kharden.pipeline import finish
from kharden.pipeline.checking import check, check_groups
from kharden.pipeline.generation import generate
from kharden.pipeline.left import WINDOWS_REASON, api_versions, checks_left, explicit, left_pss, unfixed
from kharden.pipeline.mutation import mutate
from kharden.pipeline.request import Hidden, Request, Result
from kharden.profile import Profile
from kharden.read import Source
from kharden.read.validate import validate_source

__all__ = ["Hidden", "Request", "Result", "WINDOWS_REASON", "api_versions", "check_groups", "checks_left", "explicit",
           "generate", "left_pss", "mutate", "run", "splice_changed", "unfixed", "validate"]


def run(request: Request) -> Result:
    """Run the pipeline. `fix` raises the first KhardenError (nothing is half-done); `check` returns them."""
    sources = list(request.sources)
    if request.mode == "check":
        for s in sources:
            s.load()
        return check(request)
    assert request.profile is not None, "fix needs a profile"
    profile = request.profile.only_generator(request.only_generator)
    if finish.early(request, profile):  # nothing reads a document after its mutators: a range at a time
        result = Result(sources, [])
        finish.in_ranges(request, profile, result)
        return result
    for s in sources:
        s.load()
    validate(sources, profile)
    objects = [o for s in sources for o in s.objects()]
    result = Result(sources, objects if request.deployed is None else [o for o in objects if request.deployed(o)])
    know = learn(result.objects, profile, audit_log=request.generator_inputs.get("audit_log"))
    mutate(result.objects, profile, result.changes, result.findings, images=request.images, know=know)
    generate(result, profile, request.generate, request.hidden, know=know, **request.generator_inputs)
    result.findings += unfixed(result.objects, profile, result.findings)
    result.findings += explicit(result.objects, profile, result.findings, know)
    if request.splice:
        result.outputs = splice_changed(sources, result.changes)
    return result


def validate(sources: Sequence[Source], profile: Profile | None = None) -> None:
    """Refuse ill-shaped input before anything is changed: the first problem, located (all are listed by check)."""
    templates = profile.pod_templates if profile else None
    for s in sources:
        errors = validate_source(s, pod_templates=templates)
        if errors:
            raise errors[0]


def splice_changed(sources: Sequence[Source], changes: list[Change]) -> dict[str, str]:
    """Each changed source's new text: the changes spliced into its text, the changed documents read back."""
    by_file: dict[str, list[Change]] = {}
    for c in changes:
        by_file.setdefault(c.obj.file, []).append(c)
    splicing = finish.Splicing(release=False)
    for s in sources:
        splicing.add(s, by_file.get(s.path, []), range(len(s.docs)))
    return splicing.texts(list(sources))
