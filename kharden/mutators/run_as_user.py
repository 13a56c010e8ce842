"""runAsUser: the pod gets a concrete non-root user, group and fsGroup where none is set — the image's own where
kharden knows it (kharden.know.images), else the profile's default.

    spec:                        ->   spec:
      securityContext:                  securityContext:
        runAsNonRoot: true                runAsNonRoot: true
                                          runAsUser: 10001       (nginx: 101, postgres: 999, prometheus: 65534)
                                          runAsGroup: 10001
                                          fsGroup: 10001

`runAsNonRoot: true` alone makes the kubelet refuse images whose user is root or not numeric; a concrete uid lets
them start. The defaults (10001) are above 10000, which kube-score and checkov ask for, and not 0, which PSS asks
for. An image with a non-root user of its own gets that uid (a named USER such as `nobody` gets its number from the
catalog or the image's /etc/passwd): files the image made for that user stay its own, including the writable copy
containerd makes of an image VOLUME. The uid the containers' images agree on goes to the pod; a container whose
image wants another gets its own. A group of 0 in an image (grafana, elasticsearch) is not copied: the default
group is used, the uid owns the files. An image whose entrypoint must start as root gets no user.
Ports: a container kharden makes non-root whose image listens below 1024 (nginx on 80) can no longer bind them; the
pod gets the sysctl `net.ipv4.ip_unprivileged_port_start: "0"` (a safe sysctl since Kubernetes 1.22, allowed by
PSS baseline and restricted; containerd 2.0 sets it by default, containerd 1.x and CRI-O do not). Not for
hostNetwork pods (the node's setting), nor when the image's binary carries NET_BIND_SERVICE as a file capability.
A present value is never changed (an explicit `runAsUser: 0` is the `runAsNonRoot` mutator's business, which
runs first). A pod-level field is not added when every container already sets its own. When a container is opted
out, `runAsUser` / `runAsGroup` go to the other containers one by one; `fsGroup` (pod-only) is still added.
An option set to null is not added. `imageUser: false` uses the profile's values even where the image has a user
of its own (an organisation's uid policy). Windows pods are skipped: the API server rejects these fields on them.

An explicit `runAsUser` between 1 and `minimum - 1` (default 10000: checkov CKV_K8S_40, kube-score) may collide with
a host user; it is reported (kharden.checks.explicit) and, with `enforce: true` (the strict profile), raised to
`runAsUser` — except the image's own known non-root UID, which its files belong to:

    securityContext: {runAsUser: 2000}   ->   securityContext: {runAsUser: 10001}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.find.podspecs import PodTarget
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, SC, any_skipped, container_sc, containers, image_of, mapping, pod_sc
from kharden.options import ProfileOptions

ID = "runAsUser"
SCOPE = "pod"
PORT_SYSCTL = "net.ipv4.ip_unprivileged_port_start"
KEYS = {"runAsUser": "user", "runAsGroup": "group", "fsGroup": "group"}


@dataclass(frozen=True)
class Options(ProfileOptions):
    run_as_user: int | None = 10001  # null: not set
    run_as_group: int | None = 10001
    fs_group: int | None = 10001
    image_user: bool = True
    minimum: int = 10000
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if target.windows:
        return
    if opts.enforce:
        _raise_low(target, opts, edit)
    pod = mapping(edit.get(pod_sc(target)))
    root = {path for path, _ in target.containers() if image_of(target, path).starts_as_root == "required"}
    per_container = any_skipped(target, edit) or bool(root)
    reached: set[Path] = set()
    for field, given in (("runAsUser", opts.run_as_user), ("runAsGroup", opts.run_as_group)):
        if given is None or pod.get(field) is not None:
            continue
        wants = _wants(target, field, root) if opts.image_user else {}
        value = _agreed(wants, given)
        for path, container in containers(target, edit):
            if path in root or container_sc(container).get(field) is not None:
                continue
            own = wants.get(path)
            if per_container or (own is not None and own != value):
                edit.ensure(path + (SC, field), own or value, _reason(target, path, field, own or value, own))
            if field == "runAsUser":
                reached.add(path)
        if not per_container and not _all_set(target, field):
            edit.ensure(pod_sc(target) + (field,), value, _reason(target, None, field, value, value in wants.values()))
    if opts.fs_group is not None and pod.get("fsGroup") is None:
        value = _agreed(_wants(target, "fsGroup", root) if opts.image_user else {}, opts.fs_group)
        edit.ensure(pod_sc(target) + ("fsGroup",), value, "volumes owned by a non-root group")
    _unprivileged_ports(target, edit, reached)


def _wants(target: PodTarget, field: str, root: set[Path]) -> dict[Path, int]:
    """The non-root value each container's image has for the field, where it has one and sets none itself."""
    out = {}
    for path, container in target.containers():
        facts = image_of(target, path)
        value = getattr(facts, KEYS[field])
        if value and path not in root and facts.user and container_sc(container).get(field) is None:
            out[path] = value
    return out


def _agreed(wants: dict[Path, int], default: Any) -> Any:
    """The value every container that knows one agrees on; else the default."""
    values = set(wants.values())
    return values.pop() if len(values) == 1 else default


def _reason(target: PodTarget, path: Path | None, field: str, value: Any, from_image: Any) -> str:
    if not from_image:
        return f"a concrete non-root {field} ({value}) where none is set"
    if path is None:
        return f"the images' own non-root {field} ({value})"
    facts = image_of(target, path)
    return f"the image's own non-root {field} ({value}, from {facts.source})"


def _all_set(target: PodTarget, field: str) -> bool:
    everyone = list(target.containers())
    return bool(everyone) and all(container_sc(c).get(field) is not None for _, c in everyone)


def _raise_low(target: PodTarget, opts: Options, edit: Editor) -> None:
    new = opts.run_as_user
    if not isinstance(new, int) or new < opts.minimum:
        return
    spots = [(pod_sc(target), mapping(edit.get(pod_sc(target))))]
    spots += [(path + (SC,), container_sc(c)) for path, c in containers(target, edit)]
    own = {image_of(target, path).user for path, _ in target.containers()}  # the images' own users: their files
    for path, sc in spots:
        uid = sc.get("runAsUser")
        if type(uid) is int and 0 < uid < opts.minimum and uid not in own:  # as checks.explicit.low_uid says
            reason = f"runAsUser {sc['runAsUser']} is below the minimum {opts.minimum}: raised, {ENFORCED}"
            edit.replace(path + ("runAsUser",), new, reason)


def _unprivileged_ports(target: PodTarget, edit: Editor, reached: set[Path]) -> None:
    """The sysctl that lets a non-root process bind ports below 1024, where kharden made such a process."""
    needing = [path for path, c in target.containers() if path in reached and _binds_low(target, path, c)]
    if not needing or target.spec.get("hostNetwork") is True:
        return
    sysctls = mapping(edit.get(pod_sc(target))).get("sysctls")
    if isinstance(sysctls, list) and any(mapping(s).get("name") == PORT_SYSCTL for s in sysctls):
        return
    ports = sorted({p for path in needing for p in image_of(target, path).low_ports})
    edit.append(pod_sc(target) + ("sysctls",), {"name": PORT_SYSCTL, "value": "0"},
                f"a non-root user binds port(s) {', '.join(map(str, ports))} below 1024 (the image listens there)")


def _binds_low(target: PodTarget, path: Path, container: dict[str, Any]) -> bool:
    facts = image_of(target, path)
    if not facts.low_ports or "NET_BIND_SERVICE" in facts.capabilities:
        return False
    added = mapping(container_sc(container).get("capabilities")).get("add")
    return not (isinstance(added, list) and any(str(a).upper().removeprefix("CAP_") == "NET_BIND_SERVICE"
                                                for a in added))
