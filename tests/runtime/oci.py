"""A pod's container as containerd's CRI plugin turns it into an OCI runtime spec (config.json for runc).

What is modelled, and where it comes from (containerd pkg/cri/.../container_create_linux.go, oci/spec.go):
- user: runAsUser, else the image USER (a name looked up in the image's /etc/passwd); the group is runAsGroup, else
  the user's primary group from /etc/passwd (0 when the UID has no entry); additional groups are the user's groups in
  the image's /etc/group plus supplementalGroups and fsGroup;
- capabilities: containerd's default set; drop ALL clears it, adds are added, named drops removed; bounding =
  effective = permitted, inheritable and ambient empty (as since containerd 1.6.18). The kernel then does what it
  does on execve: a non-root process keeps none of them;
- noNewPrivileges from allowPrivilegeEscalation: false; root.readonly from readOnlyRootFilesystem;
- containerd's default mounts, masked and read-only paths; /etc/hosts, /etc/hostname and /etc/resolv.conf from the
  sandbox; the volumes prepared by `volumes.py`; memory and CPU limits as cgroup limits;
- seccomp RuntimeDefault: NOT containerd's allow-list profile; a deny-list of the system calls that profile refuses
  to a container without CAP_SYS_ADMIN (mount, unshare, setns, keyctl, bpf, ptrace...). Enough to prove the servers
  run under a filter; say so in docs/runtime.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.runtime.kubelet import command_line, effective_security_context, environment

DEFAULT_CAPS = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE")

MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi"]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

REFUSED_SYSCALLS = ["acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
                    "finit_module", "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
                    "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount", "move_pages",
                    "name_to_handle_at", "nfsservctl", "open_by_handle_at", "perf_event_open", "pivot_root",
                    "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot",
                    "request_key", "set_mempolicy", "setns", "settimeofday", "swapon", "swapoff", "sysfs",
                    "umount2", "unshare", "uselib", "userfaultfd", "ustat", "fsopen", "fsmount", "fsconfig",
                    "move_mount", "open_tree", "fspick"]


def capabilities(context: dict[str, Any]) -> list[str]:
    caps = (context.get("capabilities") or {})
    adds = [str(c).upper() for c in caps.get("add") or []]
    drops = [str(c).upper() for c in caps.get("drop") or []]
    current = list(DEFAULT_CAPS)
    if "ALL" in drops:
        current = []
    for cap in adds:
        name = cap if cap.startswith("CAP_") else "CAP_" + cap
        if cap != "ALL" and name not in current:
            current.append(name)
    return [c for c in current if c.removeprefix("CAP_") not in drops and c not in drops]


def _passwd(rootfs: Path) -> list[list[str]]:
    path = rootfs / "etc" / "passwd"
    return [line.split(":") for line in path.read_text().splitlines() if line.count(":") >= 6] if path.is_file() else []


def _groups(rootfs: Path) -> list[list[str]]:
    path = rootfs / "etc" / "group"
    return [line.split(":") for line in path.read_text().splitlines() if line.count(":") >= 3] if path.is_file() else []


def process_user(pod: dict[str, Any], container: dict[str, Any], config: dict[str, Any],
                 rootfs: Path) -> dict[str, Any]:
    """uid, gid and additionalGids as containerd's WithUser/WithUserID/WithAdditionalGIDs compute them."""
    context = effective_security_context(pod, container)
    image_user = str(config.get("User") or "")
    name, _, image_group = image_user.partition(":")
    entries = _passwd(rootfs)
    if context.get("runAsUser") is not None:
        uid = int(context["runAsUser"])
        entry = next((e for e in entries if e[2] == str(uid)), None)
        gid = int(entry[3]) if entry else 0
    elif name and not name.isdigit():
        entry = next((e for e in entries if e[0] == name), None)
        if entry is None:
            raise RuntimeError(f"unable to find user {name}: no matching entries in passwd file")
        uid, gid = int(entry[2]), int(entry[3])
    else:
        uid = int(name or 0)
        entry = next((e for e in entries if e[2] == str(uid)), None)
        gid = int(entry[3]) if entry else 0
    if image_group.isdigit() and context.get("runAsUser") is None:
        gid = int(image_group)
    if context.get("runAsGroup") is not None:
        gid = int(context["runAsGroup"])
    extra = [gid]
    if entry is not None:
        extra += [int(g[2]) for g in _groups(rootfs) if entry[0] in g[3].split(",")]
    pod_context = pod.get("securityContext") or {}
    extra += [int(g) for g in pod_context.get("supplementalGroups") or []]
    if pod_context.get("fsGroup") is not None:
        extra.append(int(pod_context["fsGroup"]))
    return {"uid": uid, "gid": gid, "additionalGids": sorted(set(extra))}


def _quantity(value: Any) -> float:
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * units[suffix]
    return float(text)


def resources(container: dict[str, Any]) -> dict[str, Any]:
    limits = (container.get("resources") or {}).get("limits") or {}
    out: dict[str, Any] = {}
    if "memory" in limits:
        out["memory"] = {"limit": int(_quantity(limits["memory"]))}
    if "cpu" in limits:
        out["cpu"] = {"quota": int(_quantity(limits["cpu"]) * 100000), "period": 100000}
    return out


def seccomp(context: dict[str, Any]) -> dict[str, Any] | None:
    profile = (context.get("seccompProfile") or {}).get("type")
    if profile != "RuntimeDefault":
        return None  # Kubernetes' default is Unconfined; Localhost profiles are not modelled here
    return {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": REFUSED_SYSCALLS, "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}


def spec(pod: dict[str, Any], container: dict[str, Any], config: dict[str, Any], rootfs: Path,
         mounts: list[dict[str, Any]], netns: str, hostname: str) -> dict[str, Any]:
    """The config.json for `runc run`: rootfs is the container's root, mounts the volume bind mounts."""
    context = effective_security_context(pod, container)
    caps = capabilities(context)
    linux: dict[str, Any] = {
        "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                       {"type": "network", "path": netns}],
        "maskedPaths": MASKED, "readonlyPaths": READONLY, "resources": resources(container),
    }
    filter_ = seccomp(context)
    if filter_:
        linux["seccomp"] = filter_
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False, "user": process_user(pod, container, config, rootfs),
            "args": command_line(container, config), "env": environment(container, config, hostname),
            "cwd": container.get("workingDir") or config.get("WorkingDir") or "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "noNewPrivileges": context.get("allowPrivilegeEscalation") is False,
        },
        "root": {"path": str(rootfs), "readonly": bool(context.get("readOnlyRootFilesystem"))},
        "hostname": hostname,
        "mounts": default_mounts() + mounts,
        "linux": linux,
    }


def default_mounts() -> list[dict[str, Any]]:
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ]
