"""runAsUser: the pod gets a concrete non-root user, group and fsGroup where none is set.

    spec:                        ->   spec:
      securityContext:                  securityContext:
        runAsNonRoot: true                runAsNonRoot: true
                                          runAsUser: 10001
                                          runAsGroup: 10001
                                          fsGroup: 10001

`runAsNonRoot: true` alone makes the kubelet refuse images whose user is root or not numeric; a concrete uid lets
them start. The defaults (10001) are above 10000, which kube-score and checkov ask for, and not 0, which PSS asks
for. A present value is never changed (an explicit `runAsUser: 0` is the `runAsNonRoot` mutator's business, which
runs first). A pod-level field is not added when every container already sets its own. When a container is opted
out, `runAsUser` / `runAsGroup` go to the other containers one by one; `fsGroup` (pod-only) is still added.
An option set to null is not added. Windows pods are skipped: the API server rejects these fields on them.

An explicit `runAsUser` between 1 and `minimum - 1` (default 10000: checkov CKV_K8S_40, kube-score) may collide with
a host user; it is reported (kharden.checks.explicit) and, with `enforce: true` (the strict profile), raised to
`runAsUser`:

    securityContext: {runAsUser: 2000}   ->   securityContext: {runAsUser: 10001}
"""

from __future__ import annotations

from typing import Any

from kharden.find.podspecs import PodTarget
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, SC, any_skipped, container_sc, containers, mapping, pod_sc

ID = "runAsUser"
SCOPE = "pod"
DEFAULTS: dict[str, Any] = {"runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001, "minimum": 10000,
                            "enforce": False}


def apply(target: PodTarget, opts: dict[str, Any], edit: Editor) -> None:
    if target.windows:
        return
    if opts["enforce"]:
        _raise_low(target, opts, edit)
    pod = mapping(edit.get(pod_sc(target)))
    per_container = any_skipped(target, edit)
    for field in ("runAsUser", "runAsGroup"):
        value = opts[field]
        if value is None or pod.get(field) is not None:
            continue
        reason = f"a concrete non-root {field} ({value}) where none is set"
        if per_container:
            for path, container in containers(target, edit):
                if container_sc(container).get(field) is None:
                    edit.ensure(path + (SC, field), value, reason)
        elif not _all_set(target, field):
            edit.ensure(pod_sc(target) + (field,), value, reason)
    if opts["fsGroup"] is not None and pod.get("fsGroup") is None:
        edit.ensure(pod_sc(target) + ("fsGroup",), opts["fsGroup"], "volumes owned by a non-root group")


def _all_set(target: PodTarget, field: str) -> bool:
    everyone = list(target.containers())
    return bool(everyone) and all(container_sc(c).get(field) is not None for _, c in everyone)


def _raise_low(target: PodTarget, opts: dict[str, Any], edit: Editor) -> None:
    new = opts["runAsUser"]
    if not isinstance(new, int) or new < opts["minimum"]:
        return
    spots = [(pod_sc(target), mapping(edit.get(pod_sc(target))))]
    spots += [(path + (SC,), container_sc(c)) for path, c in containers(target, edit)]
    for path, sc in spots:
        uid = sc.get("runAsUser")
        if type(uid) is int and 0 < uid < opts["minimum"]:  # as kharden.checks.explicit.low_uid reports it
            reason = f"runAsUser {sc['runAsUser']} is below the minimum {opts['minimum']}: raised, {ENFORCED}"
            edit.replace(path + ("runAsUser",), new, reason)
