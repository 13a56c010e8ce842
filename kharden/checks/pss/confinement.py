"""Baseline controls on how a container is confined: privileged, added capabilities, AppArmor, SELinux,
/proc mount, seccomp.
"""

from __future__ import annotations

from kharden.checks.pss.base import Check, CheckFn, Container, PodView, VersionedCheck, Violation, items, mapping


def privileged(pod: PodView) -> list[Violation]:
    """Privileged Pods disable most security mechanisms and must be disallowed: securityContext.privileged of
    every container must be undefined or false."""
    msg = 'container "{}" must not set securityContext.privileged=true'
    return [
        Violation(msg.format(c.name), c.sc_path + ("privileged",), c.name)
        for c in pod.containers()
        if c.sc.get("privileged") is True
    ]


BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
        "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip


def forbidden_adds(c: Container, allowed: frozenset[str]) -> list[Violation]:
    """One violation per container naming every capability it adds beyond `allowed`."""
    bad = [str(cap) for cap in items(mapping(c.sc.get("capabilities")).get("add")) if cap not in allowed]
    if not bad:
        return []
    names = ", ".join(f'"{b}"' for b in sorted(set(bad)))
    msg = f'container "{c.name}" must not include {names} in securityContext.capabilities.add'
    return [Violation(msg, c.sc_path + ("capabilities", "add"), c.name)]


def capabilities_baseline(pod: PodView) -> list[Violation]:
    """Adding additional capabilities beyond those listed must be disallowed: capabilities.add of every
    container only from AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP,
    SETGID, SETPCAP, SETUID, SYS_CHROOT."""
    return [v for c in pod.containers() for v in forbidden_adds(c, BASELINE_CAPABILITIES)]


APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
APPARMOR_TYPES = ("RuntimeDefault", "Localhost")


def _apparmor_annotation_ok(value: object) -> bool:
    return value in ("", None, "runtime/default") or str(value).startswith("localhost/")


def app_armor_profile(pod: PodView) -> list[Violation]:
    """On supported hosts, the RuntimeDefault AppArmor profile is applied by default. The baseline policy should
    prevent overriding or disabling the default AppArmor profile, or restrict overrides to an allowed set of
    profiles: securityContext.appArmorProfile.type (pod, containers) undefined, RuntimeDefault or Localhost; the
    annotation container.apparmor.security.beta.kubernetes.io/* undefined, runtime/default or localhost/*."""
    out = []
    setters = [(None, pod.sc, pod.sc_path)] + [(c.name, c.sc, c.sc_path) for c in pod.containers()]
    for name, sc, sc_path in setters:
        profile = sc.get("appArmorProfile")
        if isinstance(profile, dict) and profile.get("type") not in APPARMOR_TYPES:
            who = "pod" if name is None else f'container "{name}"'
            msg = f'{who} must not set AppArmor profile type to "{profile.get("type") or ""}"'
            out.append(Violation(msg, sc_path + ("appArmorProfile", "type"), name))
    for key, value in pod.annotations.items():
        if str(key).startswith(APPARMOR_ANNOTATION) and not _apparmor_annotation_ok(value):
            msg = f'pod must not set annotation {key}="{value}" (a forbidden AppArmor profile)'
            out.append(Violation(msg, pod.annotations_path + (key,), str(key)[len(APPARMOR_ANNOTATION) :]))
    return out


SELINUX_TYPES_1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
SELINUX_TYPES_1_31 = SELINUX_TYPES_1_0 | {"container_engine_t"}


def _selinux(allowed: frozenset[str]) -> CheckFn:
    def check(pod: PodView) -> list[Violation]:
        """Setting the SELinux type is restricted, and setting a custom SELinux user or role option is
        forbidden: seLinuxOptions.type (pod, containers) undefined/empty, container_t, container_init_t,
        container_kvm_t (and container_engine_t since 1.31); seLinuxOptions.user and .role undefined/empty."""
        out = []
        setters = [(None, pod.sc, pod.sc_path)] + [(c.name, c.sc, c.sc_path) for c in pod.containers()]
        for name, sc, sc_path in setters:
            opts = sc.get("seLinuxOptions")
            if not isinstance(opts, dict):
                continue
            bad = []
            if (opts.get("type") or "") not in allowed:
                bad.append(f'type "{opts.get("type")}"')
            bad += [f"{key} may not be set" for key in ("user", "role") if opts.get(key)]
            if bad:
                who = "pod" if name is None else f'container "{name}"'
                msg = f"{who} set forbidden securityContext.seLinuxOptions: {'; '.join(bad)}"
                out.append(Violation(msg, sc_path + ("seLinuxOptions",), name))
        return out

    return check


def proc_mount_strict(pod: PodView) -> list[Violation]:
    """The default /proc masks are set up to reduce attack surface, and should be required:
    securityContext.procMount of every container undefined or Default."""
    return [
        Violation(
            f'container "{c.name}" must not set securityContext.procMount to "{c.sc.get("procMount")}"',
            c.sc_path + ("procMount",),
            c.name,
        )
        for c in pod.containers()
        if c.sc.get("procMount") not in (None, "Default")
    ]


def proc_mount_user_namespaces(pod: PodView) -> list[Violation]:
    """As procMount 1.0, except that a pod in its own user namespace (spec.hostUsers: false) may set any
    procMount: the unmasked /proc is then the user namespace's, not the host's."""
    return [] if pod.user_namespace else proc_mount_strict(pod)


SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"


def _seccomp_annotation_ok(value: object) -> bool:
    return value in ("runtime/default", "docker/default") or str(value).startswith("localhost/")


def seccomp_baseline_annotations(pod: PodView) -> list[Violation]:
    """Before 1.19: if seccomp profiles are specified, only runtime default and localhost profiles are allowed.
    The annotations seccomp.security.alpha.kubernetes.io/pod and container.seccomp.security.alpha.kubernetes.io/*
    must be undefined, runtime/default, docker/default or localhost/*."""
    keys: list[tuple[str, str | None]] = [(SECCOMP_POD_ANNOTATION, None)]
    keys += [(SECCOMP_CONTAINER_ANNOTATION + c.name, c.name) for c in pod.containers()]
    out = []
    for key, name in keys:
        if key in pod.annotations and not _seccomp_annotation_ok(pod.annotations[key]):
            msg = f'pod must not set annotation {key}="{pod.annotations[key]}"'
            out.append(Violation(msg, pod.annotations_path + (key,), name))
    return out


def seccomp_baseline(pod: PodView) -> list[Violation]:
    """Seccomp profile must not be explicitly set to Unconfined: securityContext.seccompProfile.type (pod,
    containers) undefined, RuntimeDefault or Localhost."""
    out = []
    setters = [(None, pod.sc, pod.sc_path)] + [(c.name, c.sc, c.sc_path) for c in pod.containers()]
    for name, sc, sc_path in setters:
        profile = sc.get("seccompProfile")
        if isinstance(profile, dict) and profile.get("type") not in SECCOMP_TYPES:
            who = "pod" if name is None else f'container "{name}"'
            msg = f'{who} must not set securityContext.seccompProfile.type to "{profile.get("type") or ""}"'
            out.append(Violation(msg, sc_path + ("seccompProfile", "type"), name))
    return out


CHECKS = (
    Check(
        "privileged",
        "baseline",
        (VersionedCheck((1, 0), privileged),),
        "securityContext.privileged undefined or false",
    ),
    Check(
        "capabilities_baseline",
        "baseline",
        (VersionedCheck((1, 0), capabilities_baseline),),
        "capabilities.add only from the default set (AUDIT_WRITE, CHOWN, ..., NET_BIND_SERVICE, ..., SYS_CHROOT)",
    ),
    Check(
        "appArmorProfile",
        "baseline",
        (VersionedCheck((1, 0), app_armor_profile),),
        "appArmorProfile.type RuntimeDefault/Localhost/undefined; annotation runtime/default, localhost/* or undefined",
    ),
    Check(
        "seLinuxOptions",
        "baseline",
        (VersionedCheck((1, 0), _selinux(SELINUX_TYPES_1_0)), VersionedCheck((1, 31), _selinux(SELINUX_TYPES_1_31))),
        "seLinuxOptions.type container_t/container_init_t/container_kvm_t (+container_engine_t 1.31); no user, role",
    ),
    Check(
        "procMount",
        "baseline",
        (VersionedCheck((1, 0), proc_mount_strict), VersionedCheck((1, 35), proc_mount_user_namespaces)),
        "securityContext.procMount undefined or Default (any value with hostUsers: false since 1.35)",
    ),
    Check(
        "seccompProfile_baseline",
        "baseline",
        (VersionedCheck((1, 0), seccomp_baseline_annotations), VersionedCheck((1, 19), seccomp_baseline)),
        "seccompProfile.type not Unconfined (before 1.19: the seccomp annotations not unconfined)",
    ),
)
