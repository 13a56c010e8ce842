"""namespaceLabels: Namespaces get Pod Security Admission labels, so the cluster enforces what kharden fixed.

    kind: Namespace              ->   kind: Namespace
    metadata:                         metadata:
      name: shop                        name: shop
                                        labels:
                                          pod-security.kubernetes.io/enforce: restricted
                                          pod-security.kubernetes.io/enforce-version: latest
                                          pod-security.kubernetes.io/audit: restricted
                                          ...

Options:
  modes    level per admission mode (enforce, audit, warn); a mode set to null is not added.
  version  the `-version` label added beside each level kharden adds ("latest", or e.g. "v1.30").
  exclude  namespaces left alone (the system ones run privileged pods by design).
  enforce  raise an existing looser level (e.g. `enforce: privileged`) to the profile's. Without it, only absent
           labels are added; an existing level, stricter or looser, is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.errors import ProfileError
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, mapping
from kharden.options import ProfileOptions, dict_field
from kharden.read import KObject

ID = "namespaceLabels"
SCOPE = "object"

PREFIX = "pod-security.kubernetes.io/"
LEVELS = ("privileged", "baseline", "restricted")
MODES = ("enforce", "audit", "warn")


@dataclass(frozen=True)
class Options(ProfileOptions):
    modes: dict[str, str] = dict_field({"enforce": "restricted", "audit": "restricted", "warn": "restricted"})
    version: str | None = "latest"  # null: no -version labels
    exclude: tuple[str, ...] = ("kube-system", "kube-public", "kube-node-lease")
    enforce: bool = False


def apply(target: KObject, opts: Options, edit: Editor) -> None:
    if target.ref.kind != "Namespace" or "/" in target.ref.api_version or target.ref.name in opts.exclude:
        return
    labels_path = ("metadata", "labels")
    for mode, level in mapping(opts.modes).items():
        if mode not in MODES or (level is not None and level not in LEVELS):
            raise ProfileError(f"mutators.namespaceLabels.modes.{mode}: modes are {MODES}, levels {LEVELS}")
        if level is None:
            continue
        key = PREFIX + str(mode)
        current = mapping(edit.get(labels_path)).get(key)
        if current is None:
            edit.ensure(labels_path + (key,), str(level), f"Pod Security Admission {mode}s {level}")
            if opts.version is not None:
                reason = f"the Pod Security Standards version the {mode} label refers to"
                edit.ensure(labels_path + (key + "-version",), str(opts.version), reason)
        elif opts.enforce and _looser(current, level):
            edit.replace(labels_path + (key,), str(level), f"{mode} level {current} raised to {level}: {ENFORCED}")


def _looser(current: Any, level: Any) -> bool:
    if current not in LEVELS or level not in LEVELS:
        return False
    return LEVELS.index(current) < LEVELS.index(level)
