"""The one pipeline every entry point calls: `run(Request) -> Result`.

    fix:    validate -> find pod specs -> know -> mutate -> generate -> unfixed -> splice each changed source
    check:  validate (per object) -> PSS, RBAC and API-version checks -> (with a profile) what it would change

Pure: it takes parsed sources and a profile, edits the live objects and returns the record (changes, findings,
generated objects) and the new texts. No I/O, no printing, no exit. The edges (kharden.cli, kharden.run,
kharden.integrations) read the input, build a Request, render the Result and choose the exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Literal, Mapping, Sequence

from kharden.apiversions.table import target_of
from kharden.checks.apiversions import check_api_versions
from kharden.checks.explicit import check_explicit, escalation_blocked
from kharden.checks.cluster import check_cluster
from kharden.checks.pss import check_objects, left_because
from kharden.cluster.flags import STATIC_POD_REASON, generators_skip, static_control_plane
from kharden.checks.rbac import check_rbac
from kharden.checks.verdict import one_per_problem
from kharden.errors import KhardenError
from kharden.find import find_pod_targets
from kharden.generators import GENERATORS
from kharden.know import Knowledge, learn, protected
from kharden.know.images import Knowledge as Images, know_images
from kharden.model import Change, Finding
from kharden.mutators import MUTATORS, optouts
from kharden.mutators.api_versions import Options as ApiVersionsOptions
from kharden.mutators.base import Editor
from kharden.mutators.run_as_user import Options as RunAsUserOptions
from kharden.options import ProfileOptions
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
    kube_version: str | None = None  # check without a profile: the release API versions are checked against
    rbac: bool = False  # check: the RBAC checks too (always with a profile; `--pss` alone is the PSS controls only)
    splice: bool = True  # fix: make each changed source's new text (KRM re-serialises its list instead)
    images: Images | None = None  # image configs the edge read (--image-config, --resolve-images); else catalog


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
    know = mutate(result.objects, profile, result.changes, result.findings,
                  audit_log=request.generator_inputs.get("audit_log"), images=request.images)
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


def mutate(objects: list[KObject], profile: Profile, changes: list[Change], findings: list[Finding], *,
           audit_log: str | None = None, images: Images | None = None) -> Knowledge:
    """Every enabled mutator, in the registry's order, on every pod target (or object) with its opt-outs; then,
    with a lock (`fix --pin-images LOCK`), the object's images pinned. What the mutators decide from other objects
    (a binding keeps a pod's token) is learned first (`kharden.know`), and per pod target what each container's
    image needs (kharden.know.images); objects in a protected namespace are mutated on copies, and what would
    change is reported."""
    from kharden.images.pin import pinner

    know = learn(objects, profile, audit_log=audit_log)
    enabled = [(MUTATORS[mid], profile.mutators[mid]) for mid in profile.enabled_mutators()]
    per_object = any(mutator.SCOPE != "pod" for mutator, _ in enabled)
    image_aware = bool({"runAsUser", "readOnlyRootFilesystem"} & {m.ID for m, _ in enabled})
    step = _Step(enabled, per_object, profile, know, images if image_aware else _NO_IMAGES)
    pin = pinner(profile)  # only with a lock (`fix --pin-images LOCK`)
    for obj in objects:
        # the cluster's own: report, do not change (a static control-plane pod excepted: it gets its flags only)
        if protected.covers(obj.ref, know.protected) and not static_control_plane(obj):
            findings += protected.would_change(obj, lambda o, c, f: step(o, c, f, None))
            if pin is not None:  # asked for by name, and the same image runs: pinned there too
                pin(find_pod_targets(obj, profile.pod_templates), changes, findings)
        else:
            step(obj, changes, findings, pin)
    return know


_NO_IMAGES: Any = object()  # no mutator that reads images is on: the know stage is skipped


@dataclass
class _Step:
    """One object through the enabled mutators: what its images need, then each mutator on each target."""

    enabled: list[tuple[Any, ProfileOptions]]
    per_object: bool
    profile: Profile
    know: Knowledge
    images: Any  # Images | None, or _NO_IMAGES

    def __call__(self, obj: KObject, changes: list[Change], findings: list[Finding], pin: Any) -> None:
        # Each target's opt-outs are read once and serve all its mutators.
        pods = [(t, optouts.collect(t, obj)) for t in find_pod_targets(obj, self.profile.pod_templates)]
        if self.images is not _NO_IMAGES:
            for pod, _ in pods:
                findings += know_images(pod, obj, self.images, self.profile)
        whole = [(obj, optouts.collect(obj, obj))] if self.per_object else []
        enabled = self.enabled
        if pods and static_control_plane(obj):  # hardened by its flags only (docs/cluster.md): no pod-security edit
            enabled = [(m, o) for m, o in enabled if m.SCOPE != "pod" or m.ID == "controlPlane"]
        for mutator, opts in enabled:
            for target, outs in pods if mutator.SCOPE == "pod" else whole:
                optouts.run(mutator, target, obj, opts, changes, findings, outs, self.know)
        if pods and self.know.api_use.reasons and any(m.ID == "automountServiceAccountToken" for m, _ in self.enabled):
            findings += [f for t, _ in pods if (f := self.know.api_use.note(t)) is not None]
        if pin is not None:
            pin([t for t, _ in pods], changes, findings)


def generate(result: Result, profile: Profile, enabled: bool | None, hidden: Hidden | None = None,
             **gen_args: Any) -> None:
    """Every enabled generator over the whole input (a NetworkPolicy for one file's Deployment may answer a Service
    in another); their edits of existing objects are Changes like the mutators'. Protected namespaces get no
    edit (made on copies, reported) and no generated object (reported)."""
    spared = frozenset(profile.protected_namespaces)
    held = protected.Held()
    skipped = {o.ref for o in result.objects if generators_skip(o)}  # static control-plane pods, config files
    for gid, opts in profile.generators.items():
        on = opts.enabled if enabled is None else enabled
        if on:
            out = GENERATORS[gid].generate(
                result.objects if hidden is None and not skipped else
                [o for o in result.objects if o.ref not in skipped and not (hidden and hidden(gid, o))],
                opts,
                lambda o, g=gid: (Editor(held.twin(o), g, held.changes(o)) if protected.covers(o.ref, spared)
                                  else Editor(o, g, result.changes)),
                pod_templates=profile.pod_templates,
                generated=list(result.generated),
                **gen_args,
            )
            for o in out.objects:  # nothing is generated into a protected namespace: reported instead
                if (o.get("metadata") or {}).get("namespace") in spared:
                    result.findings.append(protected.dropped(o, gid))
                else:
                    result.generated.append(o)
            # what a generator says about a protected object concerns edits and policies not made there
            result.findings += [f for f in out.findings if f.obj is None or not protected.covers(f.obj, spared)]
    result.findings += held.report()


WINDOWS_REASON = ("a Windows pod (nodeSelector, node affinity or windowsOptions): kharden adds no Linux-only field; "
                  "set spec.os.name: windows, which Pod Security Admission exempts (kharden.find.windows)")


def unfixed(objects: list[KObject], profile: Profile, notes: list[Finding]) -> list[Finding]:
    """PSS violations left after mutation, each with the reason kharden did not fix it; then what the profile's
    checks (images, secrets) still find, the deprecated API versions left, and the cluster layer's findings
    (docs/cluster.md)."""
    return (_unfixed_pss(objects, profile, notes) + api_versions(objects, profile, None, fixing=True)
            + check_cluster(objects, profile.mutators, status="unfixed"))


def _unfixed_pss(objects: list[KObject], profile: Profile, notes: list[Finding]) -> list[Finding]:
    if profile.pss not in ("baseline", "restricted"):
        return checks_left(objects, profile)
    return left_pss(objects, profile, notes) + checks_left(objects, profile)


def left_pss(objects: list[KObject], profile: Profile, notes: list[Finding], level: str | None = None,
             version: str = "latest") -> list[Finding]:
    """The PSS violations of the (fixed) objects at `level` (default: the profile's), each with the reason fix
    left it: `fix` reports them, `check --profile` grades its findings by them (kharden.checks.verdict)."""
    def why(f: Finding) -> str:
        return f"opted out: {f.reason}" if f.reason else f"opted out without a reason ({f.message})"

    # an opt-out kharden did not need still says why the user wants the value: the reason a violation is left
    said = [f for f in notes if f.status == "opted-out" or f.rule == "kharden.unneeded-opt-out"]
    opted = {(f.obj, f.extra.get("container")): why(f) for f in said}
    opted_any = {f.obj: why(f) for f in said}
    spared = {o.ref: protected.LEFT for o in objects if protected.covers(o.ref, profile.protected_namespaces)}
    enabled = set(profile.enabled_mutators())
    by_ref = {o.ref: o for o in objects}
    windows = {o.ref for o in objects if any(t.windows and not t.os_windows
                                             for t in find_pod_targets(o, profile.pod_templates))}
    static = {o.ref for o in objects if static_control_plane(o)}
    out = []
    for f in check_objects(objects, level or profile.pss, version, profile.pod_templates):
        reason = (
            (f.obj in static and STATIC_POD_REASON)
            or spared.get(f.obj)  # type: ignore[arg-type]
            or (f.obj in windows and WINDOWS_REASON)
            or opted.get((f.obj, f.extra.get("container")))
            or opted.get((f.obj, None))
            or (f.extra.get("container") is None and opted_any.get(f.obj))  # a pod-level field, one opted container
            or (f.rule == "pss.allowPrivilegeEscalation"
                and escalation_blocked(by_ref[f.obj], f.extra.get("container"), profile.pod_templates))
            or left_because(f.rule, enabled)
        )
        out.append(replace(f, status="unfixed", reason=reason))
    return out


def checks_left(objects: list[KObject], profile: Profile) -> list[Finding]:
    """What the profile's checks (images, secrets) still find after fixing: violations unfixed, warnings as notes."""
    from kharden.checks import run_checks

    found = run_checks(objects, profile.checks, profile.pod_templates)
    return [replace(f, status="unfixed") if f.severity == "error" else f for f in found]


def api_versions(objects: list[KObject], profile: Profile | None, kube_version: str | None,
                 fixing: bool = False) -> list[Finding]:
    """Deprecated and removed API versions at the target: `kube_version` (`--kube-version` without a profile), else
    the profile's `mutators.apiVersions.kubeVersion`, else the newest release the table knows."""
    opts = profile.mutators.get("apiVersions") if profile is not None else None
    target = target_of(kube_version or (opts.kube_version if isinstance(opts, ApiVersionsOptions) else None))
    return check_api_versions(objects, target, fixing=fixing, migrating=profile is None or bool(opts and opts.enabled),
                              spared=profile.protected_namespaces if profile is not None else ())


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
    groups = check_groups(result.objects, pss=request.pss, version=request.pss_version, profile=profile,
                          kube_version=request.kube_version, rbac=request.rbac)
    result.findings = [f for group in groups for f in group]
    return result


def check_groups(
    objects: list[KObject], *, pss: str | None, version: str = "latest", profile: Profile | None = None,
    kube_version: str | None = None,
    rbac: bool = False,
) -> list[list[Finding]]:
    """`check`'s findings in their groups, each in object order: PSS, RBAC (asked for, or with a profile: `--pss`
    alone is exactly the PSS controls), then (with a profile) the changes it would make as fixable findings and the
    mutators' notes."""
    level = pss or (profile.pss if profile else "restricted")
    templates = profile.pod_templates if profile else None
    groups = [check_objects(objects, level, version, templates) if level in ("baseline", "restricted") else []]
    groups.append(check_rbac(objects) if rbac or profile is not None else [])
    # the cluster layer (docs/cluster.md) with RBAC: `--pss` alone is exactly the PSS controls
    groups.append(check_cluster(objects, profile.mutators if profile else None) if rbac or profile is not None else [])
    if profile is not None or kube_version:  # `--pss` alone: exactly the PSS controls
        groups.append(api_versions(objects, profile, kube_version))
    if profile is not None:
        from kharden.checks import check_each

        groups += check_each(objects, profile.checks, templates)  # a group per check
        changes: list[Change] = []
        notes: list[Finding] = []
        know = mutate(objects, profile, changes, notes)
        # the edits the profile's generators make to the input (a serviceAccountName, a token switched off) are
        # changes `fix` makes too: "would fix" is exactly what fix changes (the generated objects are not findings)
        generate(Result([], objects, changes), profile, None, know=know)
        by_ref = {o.ref: o for o in objects}
        # one finding per problem: a PSS violation and the changes that mend it are one, graded by what fix leaves
        left = left_pss(objects, profile, notes, level, version) if groups[0] else []
        groups[0], pending = one_per_problem(groups[0], left, [_pending(c, by_ref[c.obj]) for c in changes], by_ref)
        # What each image is (kharden.image info notes) is fix's report; check keeps only the warnings.
        groups += [pending,
                   [n for n in notes if not (n.rule == "kharden.image" and n.severity == "info")]
                   + explicit(objects, profile, notes, know)]
    return groups


def explicit(objects: list[KObject], profile: Profile, notes: list[Finding], know: Knowledge) -> list[Finding]:
    """Explicit values the profile leaves in place, reported with their reason (kharden.checks.explicit). A token
    the pod asks for and uses (kharden.know.api_use) is a note that says why, not a violation."""
    used = {o.ref: reasons for o in objects for t in find_pod_targets(o, profile.pod_templates)
            if (reasons := know.api_use.of(t))}
    return [replace(f, severity="info", status="info", reason="a token in use is kept: " + "; ".join(used[f.obj]))
            if f.obj in used and f.rule == "kharden.automountServiceAccountToken" else f
            for f in _explicit(objects, profile, notes)]


def _explicit(objects: list[KObject], profile: Profile, notes: list[Finding]) -> list[Finding]:
    run_as_user = profile.mutators.get("runAsUser")
    return check_explicit(objects, enabled=set(profile.enabled_mutators()), notes=notes,
                          minimum=run_as_user.minimum if isinstance(run_as_user, RunAsUserOptions) else None,
                          pod_templates=profile.pod_templates)


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
