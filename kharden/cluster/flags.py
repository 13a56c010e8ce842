"""Control-plane containers, recognised by their command (not by file or pod name), and their flags.

kubeadm writes `command: [kube-apiserver, --flag=value, ...]`; images may use a path (`/usr/local/bin/etcd`) or
hyperkube's `command: [/hyperkube, kube-apiserver]`, and some put the flags in `args`. A flag is `--name=value`,
or a bare `--name` (a boolean, true); the last occurrence wins, as with Go's pflag. `--name value` (two elements)
is not read: no control-plane manifest writes it, and guessing would misread positional arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.cluster.cis import COMPONENTS
from kharden.model import Path


@dataclass(frozen=True)
class Flag:
    name: str
    value: str
    path: Path  # of the list element, relative to the container ("command", 3)


def component_of(container: dict[str, Any]) -> str | None:
    """The control-plane component a container runs, from the first two words of its command (or args)."""
    for key in ("command", "args"):
        words = container.get(key)
        if not isinstance(words, list):
            continue
        for w in words[:2]:
            base = str(w).rsplit("/", 1)[-1]
            if base in COMPONENTS:
                return base
        if key == "command" and words:
            return None  # a command that runs something else: its args are not the component's
    return None


def flags_of(container: dict[str, Any]) -> dict[str, Flag]:
    out: dict[str, Flag] = {}
    for key in ("command", "args"):
        words = container.get(key)
        for i, w in enumerate(words if isinstance(words, list) else []):
            if isinstance(w, str) and w.startswith("--"):
                name, eq, value = w.partition("=")
                out[name] = Flag(name, value if eq else "true", (key, i))
    return out


def flag_list(container: dict[str, Any], component: str) -> str:
    """Where a new flag goes: the list that names the component (checkov and kubeadm read `command`)."""
    cmd = container.get("command")
    if isinstance(cmd, list) and any(str(w).rsplit("/", 1)[-1] == component for w in cmd[:2]):
        return "command"
    return "args" if isinstance(container.get("args"), list) else "command"


STATIC_POD_REASON = ("a control-plane static pod: kharden hardens it by its flags (CIS, docs/cluster.md), not with pod "
                     "settings (a non-root user, memory limits, a read-only root) that would stop the component")


def static_control_plane(obj: Any) -> bool:
    """A Pod (kubeadm's static pods are Pods) running a control-plane component. Its pod security settings are
    left alone: the API server, etcd and friends run as root on host paths by design, and a static pod may not
    name a ServiceAccount. Deployments of, say, a second scheduler are ordinary workloads and hardened as such."""
    if obj.ref.kind != "Pod" or obj.ref.api_version != "v1":
        return False
    spec = obj.data.get("spec")
    containers = spec.get("containers") if isinstance(spec, dict) else None
    return any(isinstance(c, dict) and component_of(c) for c in containers or [])


# Configuration files components read from disk, never applied to the API server: no namespace, no workload.
CONFIG_FILE_GROUPS = frozenset({"kubelet.config.k8s.io", "apiserver.config.k8s.io", "audit.k8s.io", "kubeadm.k8s.io",
                                "kubeproxy.config.k8s.io", "kubescheduler.config.k8s.io"})


def generators_skip(obj: Any) -> bool:
    """Objects no generator should see: static control-plane pods (a static pod may name no ServiceAccount) and
    component configuration files (a KubeletConfiguration is in no namespace that needs a NetworkPolicy)."""
    return obj.ref.api_version.rpartition("/")[0] in CONFIG_FILE_GROUPS or static_control_plane(obj)
