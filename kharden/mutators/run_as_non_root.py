"""runAsNonRoot: the pod says `runAsNonRoot: true`, so the kubelet refuses to start a container as root.

    spec:                        ->   spec:
      containers: [...]                 securityContext:
                                          runAsNonRoot: true
                                        containers: [...]

Required by Pod Security Standards (restricted). Where a container would run as root by the manifest's own words
(`runAsUser: 0` on it, or on the pod and not overridden), adding the field would stop it from starting, and an
explicit `runAsNonRoot: false` contradicts it: such pods are left as they are (the checker reports them) unless
`enforce: true`, which turns `false` into `true` and removes `runAsUser: 0` (the `runAsUser` mutator, which runs
next, then supplies a non-root user). A container whose image's entrypoint must start as root (kharden.know.images)
does not get it; the other containers get it one by one. When a container is opted out, the others get the field one by one, so the
opted-out container is untouched. Windows pods get it too: the kubelet checks the Windows user name instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.find.podspecs import PodTarget
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.mutators.common import (ENFORCED, SC, any_skipped, container_sc, containers, image_of, mapping,
                                     pod_sc)
from kharden.options import ProfileOptions

ID = "runAsNonRoot"
SCOPE = "pod"

REASON = "containers must run as a non-root user (PSS restricted)"


@dataclass(frozen=True)
class Options(ProfileOptions):
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if opts.enforce:
        _enforce(target, edit)
    pod = mapping(edit.get(pod_sc(target)))
    root = {path for path, _ in target.containers() if image_of(target, path).starts_as_root == "required"}
    if root:  # an image whose entrypoint must start as root: the others get the field one by one
        if pod.get("runAsNonRoot") is None:
            for path, container in containers(target, edit):
                sc = container_sc(container)
                if path not in root and sc.get("runAsNonRoot") is None and _effective_user(sc, pod) != 0:
                    edit.ensure(path + (SC, "runAsNonRoot"), True, REASON)
        return
    if any_skipped(target, edit):
        if pod.get("runAsNonRoot") is True or (pod.get("runAsNonRoot") is False and not opts.enforce):
            return
        for path, container in containers(target, edit):
            sc = container_sc(container)
            if sc.get("runAsNonRoot") is None and _effective_user(sc, pod) != 0:
                edit.ensure(path + (SC, "runAsNonRoot"), True, REASON)
        return
    if pod.get("runAsNonRoot") is not None:
        return
    if pod.get("runAsUser") == 0 or any(_breaks(container_sc(c), pod) for _, c in target.containers()):
        return  # a container pinned to root would no longer start
    edit.ensure(pod_sc(target) + ("runAsNonRoot",), True, REASON)


def _effective_user(sc: dict[str, Any], pod: dict[str, Any]) -> Any:
    return sc["runAsUser"] if sc.get("runAsUser") is not None else pod.get("runAsUser")


def _breaks(sc: dict[str, Any], pod: dict[str, Any]) -> bool:
    """A pod-level runAsNonRoot: true would stop this container: it runs as uid 0 and does not override the field."""
    return _effective_user(sc, pod) == 0 and sc.get("runAsNonRoot") is None


def _enforce(target: PodTarget, edit: Editor) -> None:
    paths: list[Path] = [] if any_skipped(target, edit) else [pod_sc(target)]
    paths += [path + (SC,) for path, _ in containers(target, edit)]
    for sc_path in paths:
        sc = mapping(edit.get(sc_path))
        if sc.get("runAsNonRoot") is False:
            edit.replace(sc_path + ("runAsNonRoot",), True, f"runAsNonRoot: false overridden: {ENFORCED}")
        if sc.get("runAsUser") == 0:
            edit.remove(sc_path + ("runAsUser",), f"running as root (runAsUser: 0) removed: {ENFORCED}")
