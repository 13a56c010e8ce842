"""Restricted controls: pod hardening best practices, at the expense of some compatibility.

From 1.25 the Linux-only controls (allowPrivilegeEscalation, seccompProfile_restricted, capabilities_restricted)
do not apply to Windows pods (spec.os.name: windows). From 1.35 runAsNonRoot and runAsUser do not apply to pods in
their own user namespace (spec.hostUsers: false): root there is not root on the host.
"""

from __future__ import annotations

from kharden.checks.pss.base import Check, CheckFn, PodView, VersionedCheck, Violation, items, mapping, quote
from kharden.checks.pss.confinement import SECCOMP_TYPES, forbidden_adds, proc_mount_strict

RESTRICTED_VOLUME_SOURCES = frozenset(
    {
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim",
        "projected", "secret",
    }
)  # fmt: skip


def restricted_volumes(pod: PodView) -> list[Violation]:
    """The Restricted policy only permits the following volume types: configMap, csi, downwardAPI, emptyDir,
    ephemeral, image, persistentVolumeClaim, projected, secret. A volume with no source is an emptyDir (the API
    server defaults it so)."""
    out = []
    for i, vol in enumerate(items(pod.spec.get("volumes"))):
        vol = mapping(vol)
        sources = [k for k, v in vol.items() if k != "name" and v is not None]
        bad = [s for s in sources if s not in RESTRICTED_VOLUME_SOURCES]
        if bad and len(bad) == len(sources):
            msg = f'volume "{vol.get("name", "")}" uses restricted volume type "{bad[0]}"'
            out.append(Violation(msg, pod.spec_path + ("volumes", i, str(bad[0]))))
    return out


def _linux_only(check: CheckFn) -> CheckFn:
    """The 1.25 form of a Linux-only control: Windows pods are exempt (the API rejects these fields on them)."""

    def exempt_windows(pod: PodView) -> list[Violation]:
        return [] if pod.windows else check(pod)

    exempt_windows.__doc__ = check.__doc__
    return exempt_windows


def _host_users_relaxed(check: CheckFn) -> CheckFn:
    """The 1.35 form of a control relaxed for pods in their own user namespace (spec.hostUsers: false)."""

    def relaxed(pod: PodView) -> list[Violation]:
        return [] if pod.user_namespace else check(pod)

    relaxed.__doc__ = check.__doc__
    return relaxed


def allow_privilege_escalation(pod: PodView) -> list[Violation]:
    """Privilege escalation (such as via set-user-ID or set-group-ID file mode) should not be allowed:
    securityContext.allowPrivilegeEscalation of every container must be false."""
    return [
        Violation(
            f'container "{c.name}" must set securityContext.allowPrivilegeEscalation=false',
            c.sc_path + ("allowPrivilegeEscalation",),
            c.name,
        )
        for c in pod.containers()
        if c.sc.get("allowPrivilegeEscalation") is not False
    ]


def _must_be_set(pod: PodView, field: str, value: str, unset: list[str]) -> list[Violation]:
    """The one violation for containers that leave `field` unset while the pod does not set it either."""
    if not unset:
        return []
    noun = "container" if len(unset) == 1 else "containers"
    msg = f"pod or {noun} {quote(unset)} must set securityContext.{field}={value}"
    return [Violation(msg, pod.sc_path + tuple(field.split(".")), None, {"containers": unset})]


def run_as_non_root(pod: PodView) -> list[Violation]:
    """Containers must be required to run as non-root users: spec.securityContext.runAsNonRoot must be true, or
    every container must set securityContext.runAsNonRoot=true; none may set it to false."""
    out = []
    pod_value = pod.sc.get("runAsNonRoot")
    if pod_value is False:
        out.append(Violation("pod must not set securityContext.runAsNonRoot=false", pod.sc_path + ("runAsNonRoot",)))
    unset = []
    for c in pod.containers():
        value = c.sc.get("runAsNonRoot")
        if value is False:
            msg = f'container "{c.name}" must not set securityContext.runAsNonRoot=false'
            out.append(Violation(msg, c.sc_path + ("runAsNonRoot",), c.name))
        elif value is None and pod_value is not True:
            unset.append(c.name)
    return out + _must_be_set(pod, "runAsNonRoot", "true", unset)


def _is_root(uid: object) -> bool:
    return isinstance(uid, int) and not isinstance(uid, bool) and uid == 0


def run_as_user(pod: PodView) -> list[Violation]:
    """Containers must not set runAsUser to 0: spec.securityContext.runAsUser and every container's
    securityContext.runAsUser must be undefined or non-zero."""
    out = []
    if _is_root(pod.sc.get("runAsUser")):
        out.append(Violation("pod must not set runAsUser=0", pod.sc_path + ("runAsUser",)))
    for c in pod.containers():
        if _is_root(c.sc.get("runAsUser")):
            out.append(Violation(f'container "{c.name}" must not set runAsUser=0', c.sc_path + ("runAsUser",), c.name))
    return out


def seccomp_restricted(pod: PodView) -> list[Violation]:
    """Seccomp profile must be explicitly set to one of the allowed values (RuntimeDefault, Localhost); the
    Unconfined profile and the absence of a profile are prohibited. A container may leave it undefined when the
    pod sets an allowed profile."""
    out = []
    pod_profile = pod.sc.get("seccompProfile")
    pod_ok = isinstance(pod_profile, dict) and pod_profile.get("type") in SECCOMP_TYPES
    if isinstance(pod_profile, dict) and not pod_ok:
        msg = f'pod must not set securityContext.seccompProfile.type to "{pod_profile.get("type") or ""}"'
        out.append(Violation(msg, pod.sc_path + ("seccompProfile", "type")))
    unset = []
    for c in pod.containers():
        profile = c.sc.get("seccompProfile")
        if isinstance(profile, dict) and profile.get("type") not in SECCOMP_TYPES:
            bad = profile.get("type") or ""
            msg = f'container "{c.name}" must not set securityContext.seccompProfile.type to "{bad}"'
            out.append(Violation(msg, c.sc_path + ("seccompProfile", "type"), c.name))
        elif not isinstance(profile, dict) and not pod_ok:
            unset.append(c.name)
    return out + _must_be_set(pod, "seccompProfile.type", '"RuntimeDefault" or "Localhost"', unset)


def capabilities_restricted(pod: PodView) -> list[Violation]:
    """Containers must drop ALL capabilities, and are only permitted to add back the NET_BIND_SERVICE
    capability: capabilities.drop must include ALL; capabilities.add undefined, empty or NET_BIND_SERVICE."""
    out = []
    for c in pod.containers():
        caps = mapping(c.sc.get("capabilities"))
        if "ALL" not in items(caps.get("drop")):
            msg = f'container "{c.name}" must set securityContext.capabilities.drop=["ALL"]'
            out.append(Violation(msg, c.sc_path + ("capabilities", "drop"), c.name))
        out += forbidden_adds(c, frozenset({"NET_BIND_SERVICE"}))
    return out


def proc_mount_restricted(pod: PodView) -> list[Violation]:
    """The default /proc masks are set up to reduce attack surface, and should be required, even for pods in
    their own user namespace: securityContext.procMount of every container undefined or Default."""
    return proc_mount_strict(pod)


def _v(since: tuple[int, int], fn: CheckFn, *overrides: str) -> VersionedCheck:
    return VersionedCheck(since, fn, tuple(overrides))


CHECKS = (
    Check(
        "restrictedVolumes",
        "restricted",
        (_v((1, 0), restricted_volumes, "hostPathVolumes"),),
        "volumes only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, "
        "secret",
    ),
    Check(
        "allowPrivilegeEscalation",
        "restricted",
        (_v((1, 8), allow_privilege_escalation), _v((1, 25), _linux_only(allow_privilege_escalation))),
        "securityContext.allowPrivilegeEscalation=false on every container (Windows pods exempt since 1.25)",
    ),
    Check(
        "runAsNonRoot",
        "restricted",
        (_v((1, 0), run_as_non_root), _v((1, 35), _host_users_relaxed(run_as_non_root))),
        "runAsNonRoot=true on the pod or every container, never false (hostUsers: false exempt since 1.35)",
    ),
    Check(
        "runAsUser",
        "restricted",
        (_v((1, 23), run_as_user), _v((1, 35), _host_users_relaxed(run_as_user))),
        "runAsUser undefined or non-zero on the pod and every container (hostUsers: false exempt since 1.35)",
    ),
    Check(
        "seccompProfile_restricted",
        "restricted",
        (
            _v((1, 19), seccomp_restricted, "seccompProfile_baseline"),
            _v((1, 25), _linux_only(seccomp_restricted), "seccompProfile_baseline"),
        ),
        "seccompProfile.type RuntimeDefault or Localhost on the pod or every container (Windows exempt since 1.25)",
    ),
    Check(
        "capabilities_restricted",
        "restricted",
        (
            _v((1, 22), capabilities_restricted, "capabilities_baseline"),
            _v((1, 25), _linux_only(capabilities_restricted), "capabilities_baseline"),
        ),
        'capabilities.drop includes "ALL"; add only NET_BIND_SERVICE (Windows pods exempt since 1.25)',
    ),
    Check(
        "procMount_restricted",
        "restricted",
        (_v((1, 35), proc_mount_restricted, "procMount"),),
        "securityContext.procMount undefined or Default, even with hostUsers: false",
    ),
)
