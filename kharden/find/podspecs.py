"""Where each kind keeps its pod template.

Built-in kinds are listed in kharden.kinds; custom resources that embed a pod template (Argo Rollout `spec.template`, ...)
are declared in the profile under `podTemplates`. Kinds in neither pass through untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kharden.kinds import BUILTIN_GROUPS, BUILTIN_TEMPLATES
from kharden.model import Path, cached_property
from kharden.read import KObject

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _group(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


@dataclass
class PodTarget:
    """One pod spec inside an object. All paths are relative to the object.

    The spec mapping and the list of containers are read once, when first asked for, and kept: every stage edits
    *inside* them (the Editor adds keys to existing mappings and never replaces a present mapping) and nothing adds
    or removes a container, so they stay the live ones. A copy of the object (the opt-out trial runs) gets a
    target of its own."""

    obj: KObject
    template: Path
    spec_path: Path = field(init=False, repr=False, compare=False)
    meta_path: Path = field(init=False, repr=False, compare=False)
    # container path -> what its image needs (kharden.know.images), set by the pipeline before the mutators run
    images: dict[Path, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.spec_path = self.template + ("spec",)
        self.meta_path = self.template + ("metadata",)

    @cached_property
    def spec(self) -> dict[str, Any]:
        value = get(self.obj.data, self.spec_path)
        return value if isinstance(value, dict) else {}

    @property
    def annotations(self) -> dict[str, Any]:
        """Annotations of the pod template, falling back to the object's own (they are the same for a Pod)."""
        merged: dict[str, Any] = {}
        for path in (("metadata", "annotations"), self.meta_path + ("annotations",)):
            value = get(self.obj.data, path)
            if isinstance(value, dict):
                merged.update(value)
        return merged

    @cached_property
    def windows(self) -> bool:
        """Any Windows marker (kharden.find.windows): mutators leave Linux-only fields off such pods. Read once:
        no mutator adds or removes a marker (`os`, `nodeSelector`, node affinity, `windowsOptions`), and every
        mutator of the pod asked again (about 9 times a pod)."""
        from kharden.find.windows import is_windows

        return is_windows(self.spec, [c for _, c in self.containers()])

    @property
    def os_windows(self) -> bool:
        """`spec.os.name: windows`, the one marker Pod Security Admission exempts by."""
        from kharden.find.windows import os_name_windows

        return os_name_windows(self.spec)

    def containers(self) -> tuple[tuple[Path, dict[str, Any]], ...]:
        """(path, container) for every container of every list, init containers first."""
        return self._containers

    @cached_property
    def _containers(self) -> tuple[tuple[Path, dict[str, Any]], ...]:
        spec = self.spec
        return tuple(
            (self.spec_path + (list_name, i), c)
            for list_name in CONTAINER_LISTS
            if isinstance(items := spec.get(list_name), list)
            for i, c in enumerate(items)
            if isinstance(c, dict)
        )


_MISSING = object()


def get(data: Any, path: Path, default: Any = None) -> Any:
    for key in path:
        if data.__class__ is dict and key.__class__ is str:  # the common step first: exact types, no isinstance
            data = data.get(key, _MISSING)
        elif isinstance(data, dict) and isinstance(key, str):
            data = data.get(key, _MISSING)
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return default
        if data is _MISSING:
            return default
    return data


def find_pod_targets(obj: KObject, custom: dict[tuple[str, str], Path] | None = None) -> list[PodTarget]:
    """Pod targets of an object: built-in kinds, then custom kinds keyed by (group, kind) from the profile."""
    template = pod_template(obj.data, obj.ref.api_version, obj.ref.kind, custom)
    return [] if template is None else [PodTarget(obj, template)]


def pod_template(data: dict[str, Any], api_version: str, kind: str,
                 custom: dict[tuple[str, str], Path] | None = None) -> Path | None:
    """Where this object keeps its pod template, when it has one with a spec mapping (admission asks this of
    every request before it builds anything)."""
    group = _group(api_version)
    template: Path | None = None
    if kind in BUILTIN_TEMPLATES and group in BUILTIN_GROUPS:
        template = BUILTIN_TEMPLATES[kind]
    elif custom:
        template = custom.get((group, kind))
    if template is None or not isinstance(get(data, template + ("spec",)), dict):
        return None
    return template
