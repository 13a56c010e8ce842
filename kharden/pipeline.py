"""The pipeline: read -> find pod specs -> mutate -> generate -> (render elsewhere).

Pure: takes parsed sources and a profile, edits the live objects, returns the record. No I/O, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from kharden.find import find_pod_targets
from kharden.know.images import Knowledge, know_images
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


def mutate(objects: list[KObject], profile: Profile, changes: list[Change], findings: list[Finding],
           images: Knowledge | None = None) -> None:
    """Run the enabled mutators on every object; first, per pod target, what each container's image needs."""
    from kharden.mutators import optouts

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


Hidden = Callable[[str, KObject], bool]  # (generator id, object): keep this object from that generator


def generate(result: Result, profile: Profile, enabled: bool | None, hidden: Hidden | None = None,
             **gen_args: Any) -> None:
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


def harden(
    sources: list[Source],
    profile: Profile,
    *,
    generate_: bool | None = None,
    objects: list[KObject] | None = None,
    hidden_from_generators: Hidden | None = None,
    images: Knowledge | None = None,
    **gen_args: Any,
) -> Result:
    """Mutate and generate; then report what is still wrong at the profile's PSS level as `unfixed`.

    `objects`: only these are hardened (default: every object of the sources), for edges whose input holds objects
    that are never deployed (kpt's Kptfile, local-config). `hidden_from_generators(generator id, object)`: objects
    hardened but kept from a generator (Helm hooks and the RBAC generator: kharden.integrations.helm).
    `images`: what the edge read of image configs (--image-config, --resolve-images); the catalog serves the rest.
    """
    result = Result(sources, [o for s in sources for o in s.objects()] if objects is None else objects)
    mutate(result.objects, profile, result.changes, result.findings, images)
    generate(result, profile, generate_, hidden_from_generators, **gen_args)
    result.findings += unfixed(result.objects, profile, result.findings)
    return result


def unfixed(objects: list[KObject], profile: Profile, notes: list[Finding]) -> list[Finding]:
    """PSS violations left after mutation, each with the reason kharden did not fix it."""
    from dataclasses import replace

    from kharden.checks.pss import check_objects, left_because

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


def check(
    sources: list[Source], *, pss: str | None, version: str = "latest", profile: Profile | None = None
) -> list[Finding]:
    """Violations: the PSS controls of a level, plus (with a profile) every change the profile would make."""
    objects = [o for s in sources for o in s.objects()]
    return [f for group in check_groups(objects, pss=pss, version=version, profile=profile) for f in group]


def check_groups(
    objects: list[KObject], *, pss: str | None, version: str = "latest", profile: Profile | None = None
) -> list[list[Finding]]:
    """`check`'s findings in their groups, each in object order. `check -j` checks files apart and joins their
    results group by group, so its report is the serial one, byte for byte."""
    from kharden.checks.pss import check_objects

    level = pss or (profile.pss if profile else "restricted")
    templates = profile.pod_templates if profile else None
    groups = [check_objects(objects, level, version, templates) if level in ("baseline", "restricted") else []]
    from kharden.checks.rbac import check_rbac

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
