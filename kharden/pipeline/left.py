"""What is left after fixing: violations kharden did not fix (each with its reason), the profile's checks, API
versions, and the explicit values the profile keeps."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kharden.apiversions.table import target_of
from kharden.checks.apiversions import check_api_versions
from kharden.checks.cluster import check_cluster
from kharden.checks.explicit import check_explicit, escalation_blocked
from kharden.checks.pss import check_objects, left_because
from kharden.cluster.flags import STATIC_POD_REASON, static_control_plane
from kharden.find import find_pod_targets
from kharden.know import Knowledge, protected
from kharden.model import Finding, ObjectRef
from kharden.mutators.api_versions import Options as ApiVersionsOptions
from kharden.mutators.run_as_user import Options as RunAsUserOptions
from kharden.profile import Profile
from kharden.read import KObject

ROOT_RULES = frozenset({"pss.runAsNonRoot", "pss.capabilities_restricted"})
ROOT_REASON = ("the image's entrypoint must start as root and step down itself (kharden.image): kharden sets no user "
               "and keeps what stepping down needs")
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
    root = {(f.obj, f.extra.get("container")) for f in notes if f.extra.get("startsAsRoot") == "required"}
    out = []
    for f in check_objects(objects, level or profile.pss, version, profile.pod_templates):
        ref = f.obj
        assert ref is not None, "a PSS finding is about an object"
        reason = (
            (ref in static and STATIC_POD_REASON)
            or spared.get(ref)
            or (ref in windows and WINDOWS_REASON)
            or opted.get((ref, f.extra.get("container")))
            or opted.get((ref, None))
            or (f.extra.get("container") is None and opted_any.get(ref))  # a pod-level field, one opted container
            or (f.rule == "pss.allowPrivilegeEscalation"
                and escalation_blocked(by_ref[ref], f.extra.get("container"), profile.pod_templates))
            or (f.rule in ROOT_RULES and _starts_as_root(root, ref, f.extra.get("container")) and ROOT_REASON)
            or left_because(f.rule, enabled)
        )
        out.append(replace(f, status="unfixed", reason=reason))
    return out


def _starts_as_root(root: set[tuple[ObjectRef | None, Any]], ref: ObjectRef, container: Any) -> bool:
    """A container whose image must start as root; a pod-level finding: any of its containers."""
    return (ref, container) in root if container is not None else any(r == ref for r, _ in root)


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
