"""What the kubelet decides about a container before the runtime sees it, as the kubelet's code does.

- `verify_run_as_non_root`: pkg/kubelet/kuberuntime/security_context_others.go `verifyRunAsNonRoot` — with
  runAsNonRoot, refuse runAsUser 0; without runAsUser, refuse an image user that is root (an empty USER is root) or
  a name ("image has non-numeric user ..., cannot verify user is non-root").
- `command_line`: the container's command replaces the image's Entrypoint (and then the image's Cmd is dropped);
  args replace Cmd (Kubernetes "Define a command and arguments for a container", the four cases).
- `environment`: the image's Env, then the container's env (a later name wins).
- `verify_sysctls`: only the sysctls the kubelet allows by default (pkg/kubelet/sysctl safe_sysctls.go, 1.29+).
- effective security context: container fields over pod fields (securitycontext.DetermineEffectiveSecurityContext).
"""

from __future__ import annotations

from typing import Any

SAFE_SYSCTLS = ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes")
INHERITED = ("runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile", "seLinuxOptions")


class Refused(Exception):
    """The kubelet does not create the container (CreateContainerConfigError); the message is the kubelet's."""


def effective_security_context(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    merged = {key: value for key, value in (pod.get("securityContext") or {}).items() if key in INHERITED}
    merged.update(container.get("securityContext") or {})
    return merged


def image_user(config: dict[str, Any]) -> tuple[int | None, str]:
    """(uid, name) as the CRI reports the image's USER: a number, a name, or (None, "") for no USER."""
    user = str(config.get("User") or "").split(":")[0]
    if user.isdigit():
        return int(user), ""
    return None, user


def verify_run_as_non_root(pod: dict[str, Any], container: dict[str, Any], config: dict[str, Any]) -> None:
    context = effective_security_context(pod, container)
    if not context.get("runAsNonRoot"):
        return
    name = container["name"]
    if context.get("runAsUser") is not None:
        if int(context["runAsUser"]) == 0:
            raise Refused(f"container's runAsUser breaks non-root policy (container: {name})")
        return
    uid, username = image_user(config)
    if uid is None and username:
        raise Refused(f"container has runAsNonRoot and image has non-numeric user ({username}), "
                      f"cannot verify user is non-root (container: {name})")
    if not uid:
        raise Refused(f"container has runAsNonRoot and image will run as root (container: {name})")


def verify_sysctls(sysctls: dict[str, str]) -> None:
    """The kubelet admits a pod with unsafe sysctls only when the node allows them (these nodes do not)."""
    unsafe = sorted(set(sysctls) - set(SAFE_SYSCTLS))
    if unsafe:
        raise Refused(f"SysctlForbidden: forbidden sysctl: {', '.join(unsafe)} not allowlisted")


def command_line(container: dict[str, Any], config: dict[str, Any]) -> list[str]:
    entrypoint, cmd = list(config.get("Entrypoint") or []), list(config.get("Cmd") or [])
    command, args = container.get("command"), container.get("args")
    if command:
        return list(command) + list(args or [])
    return entrypoint + (list(args) if args else cmd)


def environment(container: dict[str, Any], config: dict[str, Any], hostname: str) -> list[str]:
    values: dict[str, str] = {}
    for item in config.get("Env") or []:
        key, _, value = item.partition("=")
        values[key] = value
    values["HOSTNAME"] = hostname
    for item in container.get("env") or []:
        if "value" not in item and "valueFrom" in item:
            raise NotImplementedError(f"env {item['name']}: valueFrom is not translated by this test runtime")
        values[item["name"]] = str(item.get("value", ""))
    return [f"{key}={value}" for key, value in values.items()]
