"""The one pipeline every entry point calls: `run(Request) -> Result`.

    fix:    validate -> find pod specs -> mutate -> generate -> unfixed -> splice each changed source
    check:  validate (per object) -> PSS and RBAC checks -> (with a profile) what it would change

Pure: it takes parsed sources and a profile, edits the live objects and returns the record (changes, findings,
generated objects) and the new texts. No I/O, no printing, no exit. The edges (kharden.cli, kharden.run,
kharden.integrations) read the input, build a Request, render the Result and choose the exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Literal, Mapping, Sequence

from kharden.checks.pss import check_objects, left_because
from kharden.checks.rbac import check_rbac
from kharden.errors import KhardenError
from kharden.find import find_pod_targets
from kharden.know.images import Knowledge, know_images
from kharden.generators import GENERATORS
from kharden.model import Change, Finding
from kharden.mutators import MUTATORS, optouts
from kharden.mutators.base import Editor
from kharden.profile import Profile
from kharden.read import KObject, Source
from kharden.read.validate import split_objects, validate_source
from kharden.render import fastverify

Hidden = Callable[[str, KObject], bool]  # (generator id, object): keep this object from that generator


@dataclass(frozen=True)
class Request:
    """What to run on which input. Every field but `sources` has the default `kharden fix` uses."""

    sources: Sequence[Source]
    profile: Profile | None  # None: `check` with no profile (the PSS controls of `pss` only)
    mode: Literal["fix", "check"] = "fix"
    generate: bool | None = None  # every generator on/off; None: as the profile says
    only_generator: str | None = None  # `kharden generate rbac`: only this generator, as the profile sets it
    hidden: Hidden | None = None  # objects hardened but kept from a generator (Helm hooks)
    deployed: Callable[[KObject], bool] | None = None  # only these are hardened (KRM: not local-config, Kptfile)
    generator_inputs: Mapping[str, Any] = field(default_factory=dict)  # e.g. audit_log, for the RBAC generator
    pss: str | None = None  # check: the PSS level (default: the profile's, else restricted)
    pss_version: str = "latest"
    splice: bool = True  # fix: make each changed source's new text (KRM re-serialises its list instead)
    images: Knowledge | None = None  # image configs the edge read (--image-config, --resolve-images); else catalog


@dataclass
class Result:
    """The record every rendering is made from: YAML, diff, JSON patch, KRM results, SARIF, reports."""

    sources: list[Source]
    objects: list[KObject]
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    generated: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # source path -> new text, for changed sources only
    errors: dict[str, list[KhardenError]] = field(default_factory=dict)  # check: objects it could not check


def run(request: Request) -> Result:
    """Run the pipeline. `fix` raises the first KhardenError (nothing is half-done); `check` returns them."""
    if request.mode == "check":
        return _check(request)
    assert request.profile is not None, "fix needs a profile"
    profile = request.profile.only_generator(request.only_generator)
    sources = list(request.sources)
    validate(sources, profile)
    objects = [o for s in sources for o in s.objects()]
    result = Result(sources, objects if request.deployed is None else [o for o in objects if request.deployed(o)])
    mutate(result.objects, profile, result.changes, result.findings, request.images)
    generate(result, profile, request.generate, request.hidden, **request.generator_inputs)
    result.findings += unfixed(result.objects, profile, result.findings)
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


def mutate(objects: list[KObject], profile: Profile, changes: list[Change], findings: list[Finding],
           images: Knowledge | None = None) -> None:
    """Every enabled mutator, in the registry's order, on every pod target (or object) with its opt-outs; first,
    per pod target, what each container's image needs (the `know` stage, kharden.know.images)."""
    enabled = [(MUTATORS[mid], profile.mutators[mid]) for mid in profile.enabled_mutators()]
    per_object = any(mutator.SCOPE != "pod" for mutator, _ in enabled)
    image_aware = bool({"runAsUser", "readOnlyRootFilesystem"} & {m.ID for m, _ in enabled})
    for obj in objects:
        # Each target's opt-outs are read once and serve all its mutators.
        pods = [(t, optouts.collect(t, obj)) for t in find_pod_targets(obj, profile.pod_templates)]
        if image_aware:
            for pod, _ in pods:
                findings += know_images(pod, obj, images, profile)
        whole = [(obj, optouts.collect(obj, obj))] if per_object else []
        for mutator, opts in enabled:
            for target, outs in pods if mutator.SCOPE == "pod" else whole:
                optouts.run(mutator, target, obj, opts, changes, findings, outs)


def generate(result: Result, profile: Profile, enabled: bool | None, hidden: Hidden | None = None,
             **gen_args: Any) -> None:
    """Every enabled generator over the whole input (a NetworkPolicy for one file's Deployment may answer a Service
    in another); their edits of existing objects are Changes like the mutators'."""
    for gid, opts in profile.generators.items():
        on = opts.get("enabled") if enabled is None else enabled
        if on:
            out = GENERATORS[gid].generate(
                result.objects if hidden is None else [o for o in result.objects if not hidden(gid, o)],
                opts,
                lambda o, g=gid: Editor(o, g, result.changes),
                pod_templates=profile.pod_templates,
                generated=list(result.generated),
                **gen_args,
            )
            result.generated += out.objects
            result.findings += out.findings


def unfixed(objects: list[KObject], profile: Profile, notes: list[Finding]) -> list[Finding]:
    """PSS violations left after mutation, each with the reason kharden did not fix it."""
    if profile.pss not in ("baseline", "restricted"):
        return []

    def why(f: Finding) -> str:
        return f"opted out: {f.reason}" if f.reason else f"opted out without a reason ({f.message})"

    opted = {(f.obj, f.extra.get("container")): why(f) for f in notes if f.status == "opted-out"}
    opted_any = {f.obj: why(f) for f in notes if f.status == "opted-out"}
    enabled = set(profile.enabled_mutators())
    out = []
    for f in check_objects(objects, profile.pss, "latest", profile.pod_templates):
        reason = (
            opted.get((f.obj, f.extra.get("container")))
            or opted.get((f.obj, None))
            or (f.extra.get("container") is None and opted_any.get(f.obj))  # a pod-level field, one opted container
            or left_because(f.rule, enabled)
        )
        out.append(replace(f, status="unfixed", reason=reason))
    return out


def splice_changed(sources: Sequence[Source], changes: list[Change]) -> dict[str, str]:
    """Each changed source's new text: the changes spliced into its text, the changed documents read back."""
    by_file: dict[str, list[Change]] = {}
    for c in changes:
        by_file.setdefault(c.obj.file, []).append(c)
    return {s.path: fastverify.render_verified(s, by_file[s.path]) for s in sources if s.path in by_file}


def _check(request: Request) -> Result:
    """`check`: the well-formed objects of each source are checked; the others are reported as errors."""
    profile = request.profile
    templates = profile.pod_templates if profile else None
    result = Result(list(request.sources), [])
    for s in request.sources:
        good, problems = split_objects(s, pod_templates=templates)
        result.objects += good
        result.errors[s.path] = list(problems)
    groups = check_groups(result.objects, pss=request.pss, version=request.pss_version, profile=profile)
    result.findings = [f for group in groups for f in group]
    return result


def check_groups(
    objects: list[KObject], *, pss: str | None, version: str = "latest", profile: Profile | None = None
) -> list[list[Finding]]:
    """`check`'s findings in their groups, each in object order: PSS, RBAC, then (with a profile) the changes it
    would make as fixable findings and the mutators' notes."""
    level = pss or (profile.pss if profile else "restricted")
    templates = profile.pod_templates if profile else None
    groups = [check_objects(objects, level, version, templates) if level in ("baseline", "restricted") else []]
    groups.append(check_rbac(objects))
    if profile is not None:
        changes: list[Change] = []
        notes: list[Finding] = []
        mutate(objects, profile, changes, notes)
        by_ref = {o.ref: o for o in objects}
        # What each image is (kharden.image info notes) is fix's report; check keeps only the warnings.
        groups += [[_pending(c, by_ref[c.obj]) for c in changes],
                   [n for n in notes if not (n.rule == "kharden.image" and n.severity == "info")]]
    return groups


def _pending(change: Change, obj: KObject) -> Finding:
    """A change the profile would make, reported as a fixable violation (kubeaudit's 'pending fix')."""
    return Finding(
        obj=change.obj,
        rule=f"kharden.{change.mutator}",
        severity="error",
        message=change.reason,
        path=change.path,
        line=obj.line(change.path),
        status="fixable",
    )
