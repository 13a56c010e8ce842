"""The ordered registry of Pod Security Standards checks, and how a pod is judged against a level and version.

The order is the order of the Pod Security Standards page (baseline, then restricted); findings come out in it.
At the restricted level every baseline check runs too, except those a restricted check in force overrides.
"""

from __future__ import annotations

from functools import lru_cache

from kharden.checks.pss import confinement, host, restricted
from kharden.checks.pss.base import (
    Check,
    PodView,
    Version,
    VersionedCheck,
    Violation,
    check_level,
    parse_version,
)
from kharden.find.podspecs import PodTarget, find_pod_targets
from kharden.model import Finding, Path
from kharden.read import KObject

_BY_ID = {c.id: c for c in host.CHECKS + confinement.CHECKS + restricted.CHECKS}

ORDER = (
    # baseline
    "windowsHostProcess",
    "hostNamespaces",
    "privileged",
    "capabilities_baseline",
    "hostPathVolumes",
    "hostPorts",
    "hostProbesAndHostLifecycle",
    "appArmorProfile",
    "seLinuxOptions",
    "procMount",
    "seccompProfile_baseline",
    "sysctls",
    # restricted
    "restrictedVolumes",
    "allowPrivilegeEscalation",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile_restricted",
    "capabilities_restricted",
    "procMount_restricted",
)
assert sorted(ORDER) == sorted(_BY_ID), "every check module's CHECKS must be listed in ORDER, and only those"

REGISTRY: tuple[Check, ...] = tuple(_BY_ID[i] for i in ORDER)


def active_checks(level: str, version: str = "latest") -> list[tuple[Check, VersionedCheck]]:
    """The checks in force at a level and policy version, each in the form of that version."""
    return list(_active(level, version))


@lru_cache(maxsize=64)  # asked for every pod; the answer depends only on (level, version)
def _active(level: str, version: str) -> tuple[tuple[Check, VersionedCheck], ...]:
    check_level(level)
    v: Version = parse_version(version)
    found = [(c, c.at(v)) for c in REGISTRY if c.level == "baseline" or level == "restricted"]
    active = [(c, vc) for c, vc in found if vc is not None]
    overridden = {o for c, vc in active if c.level == "restricted" for o in vc.overrides}
    return tuple((c, vc) for c, vc in active if c.id not in overridden)


def check_pod(target: PodTarget, level: str, version: str = "latest") -> list[Finding]:
    """Findings for one pod spec at a level (restricted includes baseline) and policy version."""
    pod = PodView(target)
    findings = []
    for check, versioned in _active(level, version):
        findings += [_finding(target, check, v) for v in versioned.fn(pod)]
    return findings


def check_objects(
    objects: list[KObject],
    level: str,
    version: str = "latest",
    templates: dict[tuple[str, str], Path] | None = None,
) -> list[Finding]:
    """Findings for every pod spec of every object (pods, workload templates, custom kinds in `templates`)."""
    active_checks(level, version)  # a bad level or version is an error even when there is no pod
    findings = []
    for obj in objects:
        for target in find_pod_targets(obj, templates):
            findings += check_pod(target, level, version)
    return findings


def _finding(target: PodTarget, check: Check, v: Violation) -> Finding:
    return Finding(
        obj=target.obj.ref,
        rule=f"pss.{check.id}",
        severity="error",
        message=v.message,
        path=v.path,
        line=target.obj.line(v.path),
        extra={"level": check.level, "container": v.container, **v.extra},
        control=check.id,
    )
