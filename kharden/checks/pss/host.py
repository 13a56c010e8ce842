"""Baseline controls that keep a pod off the host: namespaces, hostPath, hostPort, probe hosts, sysctls,
Windows HostProcess.
"""

from __future__ import annotations

from typing import Any

from kharden.checks.pss.base import Check, CheckFn, PodView, VersionedCheck, Violation, items, mapping

HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def host_namespaces(pod: PodView) -> list[Violation]:
    """Sharing the host namespaces must be disallowed: spec.hostNetwork, spec.hostPID and spec.hostIPC must be
    undefined or false."""
    return [
        Violation(f"pod must not set {name}=true", pod.spec_path + (name,))
        for name in HOST_NAMESPACES
        if pod.spec.get(name) is True
    ]


def host_path_volumes(pod: PodView) -> list[Violation]:
    """HostPath volumes must be forbidden: spec.volumes[*].hostPath must be undefined."""
    out = []
    for i, vol in enumerate(items(pod.spec.get("volumes"))):
        vol = mapping(vol)
        if vol.get("hostPath") is not None:
            path = pod.spec_path + ("volumes", i, "hostPath")
            out.append(Violation(f'volume "{vol.get("name", "")}" must not be a hostPath volume', path))
    return out


def host_ports(pod: PodView) -> list[Violation]:
    """HostPorts should be disallowed entirely: ports[*].hostPort of every container must be undefined or 0."""
    out = []
    for c in pod.containers():
        for j, port in enumerate(items(c.data.get("ports"))):
            host_port = mapping(port).get("hostPort")
            if isinstance(host_port, int) and not isinstance(host_port, bool) and host_port != 0:
                path = c.path + ("ports", j, "hostPort")
                out.append(Violation(f'container "{c.name}" must not use hostPort {host_port}', path, c.name))
    return out


PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
LIFECYCLE_HANDLERS = ("postStart", "preStop")
HANDLER_ACTIONS = ("httpGet", "tcpSocket")


def host_probes_and_host_lifecycle(pod: PodView) -> list[Violation]:
    """The host field in probes and lifecycle handlers is restricted: livenessProbe, readinessProbe,
    startupProbe, lifecycle.postStart and lifecycle.preStop must leave httpGet.host and tcpSocket.host
    undefined or empty."""
    out = []
    for c in pod.containers():
        handlers: list[tuple[tuple[str, ...], Any]] = [((probe,), c.data.get(probe)) for probe in PROBES]
        lifecycle = mapping(c.data.get("lifecycle"))
        handlers += [(("lifecycle", h), lifecycle.get(h)) for h in LIFECYCLE_HANDLERS]
        for where, handler in handlers:
            if not isinstance(handler, dict):
                continue  # absent (or not a handler): no host to judge
            for action in HANDLER_ACTIONS:
                host = mapping(handler.get(action)).get("host")
                if host not in (None, ""):
                    field = ".".join(where + (action, "host"))
                    msg = f'container "{c.name}" must not set {field} (uses host "{host}")'
                    out.append(Violation(msg, c.path + where + (action, "host"), c.name))
    return out


SYSCTLS_1_0 = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    }
)
SYSCTLS_1_27 = SYSCTLS_1_0 | {"net.ipv4.ip_local_reserved_ports"}
SYSCTLS_1_29 = SYSCTLS_1_27 | {
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SYSCTLS_1_32 = SYSCTLS_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
SYSCTLS_1_37 = SYSCTLS_1_32 | {"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}


def _sysctls(allowed: frozenset[str]) -> CheckFn:
    def check(pod: PodView) -> list[Violation]:
        """Sysctls can disable security mechanisms or affect all containers on a host, and should be disallowed
        except for an allowed "safe" subset: spec.securityContext.sysctls[*].name must be in the safe set."""
        out = []
        for i, sysctl in enumerate(items(pod.sc.get("sysctls"))):
            name = str(mapping(sysctl).get("name", ""))
            if name not in allowed:
                path = pod.sc_path + ("sysctls", i, "name")
                out.append(Violation(f'pod must not set sysctl "{name}" (not in the safe set)', path))
        return out

    return check


def windows_host_process(pod: PodView) -> list[Violation]:
    """Windows pods offer the ability to run HostProcess containers which enables privileged access to the
    Windows host machine; this must be disallowed: securityContext.windowsOptions.hostProcess of the pod and of
    every container must be undefined or false."""
    out = []
    if mapping(pod.sc.get("windowsOptions")).get("hostProcess") is True:
        path = pod.sc_path + ("windowsOptions", "hostProcess")
        out.append(Violation("pod must not set securityContext.windowsOptions.hostProcess=true", path))
    for c in pod.containers():
        if mapping(c.sc.get("windowsOptions")).get("hostProcess") is True:
            path = c.sc_path + ("windowsOptions", "hostProcess")
            msg = f'container "{c.name}" must not set securityContext.windowsOptions.hostProcess=true'
            out.append(Violation(msg, path, c.name))
    return out


CHECKS = (
    Check(
        "windowsHostProcess",
        "baseline",
        (VersionedCheck((1, 0), windows_host_process),),
        "securityContext.windowsOptions.hostProcess (pod, containers) undefined or false",
    ),
    Check(
        "hostNamespaces",
        "baseline",
        (VersionedCheck((1, 0), host_namespaces),),
        "spec.hostNetwork, spec.hostPID, spec.hostIPC undefined or false",
    ),
    Check(
        "hostPathVolumes",
        "baseline",
        (VersionedCheck((1, 0), host_path_volumes),),
        "no spec.volumes[*].hostPath",
    ),
    Check(
        "hostPorts",
        "baseline",
        (VersionedCheck((1, 0), host_ports),),
        "containers' ports[*].hostPort undefined or 0",
    ),
    Check(
        "hostProbesAndHostLifecycle",
        "baseline",
        (VersionedCheck((1, 34), host_probes_and_host_lifecycle),),
        "probes' and lifecycle handlers' httpGet.host / tcpSocket.host undefined or empty",
    ),
    Check(
        "sysctls",
        "baseline",
        (
            VersionedCheck((1, 0), _sysctls(SYSCTLS_1_0)),
            VersionedCheck((1, 27), _sysctls(SYSCTLS_1_27)),
            VersionedCheck((1, 29), _sysctls(SYSCTLS_1_29)),
            VersionedCheck((1, 32), _sysctls(SYSCTLS_1_32)),
            VersionedCheck((1, 37), _sysctls(SYSCTLS_1_37)),
        ),
        "spec.securityContext.sysctls[*].name only from the safe set (grown in 1.27, 1.29, 1.32, 1.37)",
    ),
)
