"""`check`: the well-formed objects of each source checked, in their groups; the others reported as errors."""

from __future__ import annotations

from kharden.checks.cluster import check_cluster
from kharden.checks.pss import check_objects
from kharden.checks.rbac import check_rbac
from kharden.checks.verdict import one_per_problem
from kharden.model import Change, Finding
from kharden.pipeline.generation import generate
from kharden.pipeline.left import api_versions, explicit, left_pss
from kharden.pipeline.mutation import mutate
from kharden.pipeline.request import Request, Result
from kharden.profile import Profile
from kharden.read import KObject
from kharden.read.validate import split_objects


def check(request: Request) -> Result:
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
        # (re-checked only where the input has a problem: what fix leaves elsewhere grades nothing)
        flagged = {f.obj for f in groups[0]}
        left = left_pss([o for o in objects if o.ref in flagged], profile, notes, level, version) if flagged else []
        groups[0], pending = one_per_problem(groups[0], left, [_pending(c, by_ref[c.obj]) for c in changes], by_ref)
        # What each image is (kharden.image info notes) is fix's report; check keeps only the warnings.
        groups += [pending,
                   [n for n in notes if not (n.rule == "kharden.image" and n.severity == "info")]
                   + explicit(objects, profile, notes, know)]
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
