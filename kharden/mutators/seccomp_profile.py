"""seccompProfile: pods run under the container runtime's default seccomp profile, set through the field.

    metadata:                                                ->   metadata: {}
      annotations:
        seccomp.security.alpha.kubernetes.io/pod: runtime/default
    spec:                                                         spec:
      containers: [...]                                             securityContext:
                                                                      seccompProfile:
                                                                        type: RuntimeDefault
                                                                    containers: [...]

1. Deprecated annotations on the pod (template) become fields and are removed:
   `seccomp.security.alpha.kubernetes.io/pod` and `container.seccomp.security.alpha.kubernetes.io/<c>`
   (runtime/default and docker/default -> RuntimeDefault, localhost/<p> -> Localhost with localhostProfile <p>),
   and AppArmor's
   `container.apparmor.security.beta.kubernetes.io/<c>` -> the container's `appArmorProfile` (runtime/default ->
   RuntimeDefault, localhost/<p> -> Localhost). An annotation whose field is already set is removed only if both
   say the same (the API server rejects a pod whose annotation and field disagree).
2. `unconfined` (annotation) and `Unconfined` (field) are kept unless `enforce: true`, which makes them
   RuntimeDefault. A kubeaudit `allow-disabled-apparmor` override keeps an unconfined AppArmor profile.
3. The pod gets `seccompProfile: {type: RuntimeDefault}` unless it or every container already has a profile. When a
   container is opted out, the others get the field one by one instead, so the opted-out container is untouched.
Windows pods are skipped: the API server rejects seccomp and AppArmor fields on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.find.podspecs import PodTarget
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, SC, any_skipped, container_sc, containers, mapping, pod_sc
from kharden.options import ProfileOptions

ID = "seccompProfile"
SCOPE = "pod"

POD_SECCOMP = "seccomp.security.alpha.kubernetes.io/pod"
CONTAINER_SECCOMP = "container.seccomp.security.alpha.kubernetes.io/"
CONTAINER_APPARMOR = "container.apparmor.security.beta.kubernetes.io/"
RUNTIME_DEFAULT = {"type": "RuntimeDefault"}


@dataclass(frozen=True)
class Options(ProfileOptions):
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if target.windows:
        return
    enforce = bool(opts.enforce)
    if enforce:
        _enforce_fields(target, edit)
    ann = target.meta_path + ("annotations",)
    _migrate(edit, ann, POD_SECCOMP, pod_sc(target) + ("seccompProfile",), enforce)
    for path, container in containers(target, edit):
        name = str(container.get("name"))
        _migrate(edit, ann, CONTAINER_SECCOMP + name, path + (SC, "seccompProfile"), enforce)
        apparmor = path + (SC, "appArmorProfile")
        _migrate(edit, ann, CONTAINER_APPARMOR + name, apparmor, enforce and not edit.skipped(apparmor))
    _default(target, edit)


def field_value(annotation: Any) -> dict[str, Any] | None:
    """The seccomp/AppArmor field an annotation value means, or None for a value kharden does not know."""
    value = str(annotation)
    if value in ("runtime/default", "docker/default"):
        return dict(RUNTIME_DEFAULT)
    if value.startswith("localhost/") and len(value) > len("localhost/"):
        return {"type": "Localhost", "localhostProfile": value[len("localhost/") :]}
    if value == "unconfined":
        return {"type": "Unconfined"}
    return None


def _migrate(edit: Editor, ann: Path, key: str, field: Path, enforce: bool) -> None:
    annotations = mapping(edit.get(ann))
    if key not in annotations:
        return
    wanted = field_value(annotations[key])
    reason = f"deprecated annotation {key} moved to the field"
    if wanted is None or wanted["type"] == "Unconfined":
        if not enforce:
            return  # unconfined, or a value kharden does not know: left for the checker to report
        value = annotations[key]
        wanted, reason = dict(RUNTIME_DEFAULT), f"{key}: {value} replaced by RuntimeDefault: {ENFORCED}"
    current = edit.get(field)
    if current is None:
        edit.ensure(field, wanted, reason)
    elif current != wanted:
        return  # annotation and field disagree: the API server rejects this; leave it to the user
    _remove_annotation(edit, ann, key, reason)


def _remove_annotation(edit: Editor, ann: Path, key: str, reason: str) -> None:
    if len(mapping(edit.get(ann))) == 1:
        edit.remove(ann, reason)  # the last one: drop the empty mapping rather than leave `annotations: {}`
    else:
        edit.remove(ann + (key,), reason)


def _enforce_fields(target: PodTarget, edit: Editor) -> None:
    reason = f"Unconfined profile replaced by RuntimeDefault: {ENFORCED}"
    fields: list[Path] = []
    if not any_skipped(target, edit):
        fields += [pod_sc(target) + ("seccompProfile",), pod_sc(target) + ("appArmorProfile",)]
    for path, _ in containers(target, edit):
        fields.append(path + (SC, "seccompProfile"))
        if not edit.skipped(path + (SC, "appArmorProfile")):
            fields.append(path + (SC, "appArmorProfile"))
    for field in fields:
        if mapping(edit.get(field)).get("type") == "Unconfined":
            edit.replace(field + ("type",), "RuntimeDefault", reason)


def _default(target: PodTarget, edit: Editor) -> None:
    pod_field = pod_sc(target) + ("seccompProfile",)
    annotations = mapping(edit.get(target.meta_path + ("annotations",)))
    if edit.get(pod_field) is not None or POD_SECCOMP in annotations:
        return
    everyone = list(target.containers())
    if everyone and all(container_sc(c).get("seccompProfile") is not None for _, c in everyone):
        return
    reason = "pods must run with a seccomp profile (PSS restricted)"
    if not any_skipped(target, edit):
        edit.ensure(pod_field, dict(RUNTIME_DEFAULT), reason)
        return
    for path, container in containers(target, edit):
        if CONTAINER_SECCOMP + str(container.get("name")) not in annotations:
            edit.ensure(path + (SC, "seccompProfile"), dict(RUNTIME_DEFAULT), reason)
