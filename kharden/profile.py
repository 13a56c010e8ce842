"""Profiles are data: YAML files with `extends:`, validated on load against the registered mutators and generators.

    extends: baseline            # a built-in name or a path (relative to this file)
    description: ...
    pss: restricted              # Pod Security Standards level the profile answers to
    podTemplates:                # custom kinds that embed a pod template
      - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, path: spec.template}
    mutators:
      <mutator ID>: {enabled: true, <option>: <value>, ...}
    generators:
      <generator ID>: {enabled: false, <option>: <value>, ...}

A key that is not known, or a value whose type differs from the default's, is an error naming the key and file.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from kharden.errors import ProfileError
from kharden.model import Path

TOP_KEYS = {"extends", "description", "pss", "podTemplates", "mutators", "generators", "admission"}
PSS_LEVELS = ("privileged", "baseline", "restricted")


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    pss: str
    pod_templates: dict[tuple[str, str], Path]
    mutators: dict[str, dict[str, Any]]  # ID -> full options (defaults merged), in registry order
    generators: dict[str, dict[str, Any]]
    files: tuple[str, ...] = field(default=())  # the chain of files it was resolved from
    admission: dict[str, Any] = field(default_factory=dict)  # `kharden serve`'s answers (kharden.admission_settings)

    def only_generator(self, gid: str | None) -> Profile:
        """This profile with only generator `gid` enabled (`kharden generate rbac`); itself for None."""
        if gid is None:
            return self
        gens = {g: {**o, "enabled": g == gid} for g, o in self.generators.items()}
        return dataclasses.replace(self, generators=gens)

    def enabled_mutators(self) -> list[str]:
        return [m for m, o in self.mutators.items() if o.get("enabled")]

    def as_dict(self) -> dict[str, Any]:
        """The fully resolved profile, as `kharden profiles NAME` shows it."""
        return {
            "name": self.name,
            "description": self.description,
            "pss": self.pss,
            "podTemplates": [
                {"apiVersion": g or "v1", "kind": k, "path": ".".join(map(str, p))}
                for (g, k), p in self.pod_templates.items()
            ],
            "mutators": copy.deepcopy(self.mutators),
            "generators": copy.deepcopy(self.generators),
        }


def builtin_dir() -> Any:
    """Installed: the package data `kharden.profiles`. From a source checkout: the repository's profiles/."""
    try:
        return resources.files("kharden.profiles")
    except ModuleNotFoundError:
        return resources.files("kharden").joinpath("..", "profiles")


def builtin_names() -> list[str]:
    return sorted(p.name[: -len(".yaml")] for p in builtin_dir().iterdir() if p.name.endswith(".yaml"))


def _read(ref: str, relative_to: str | None) -> tuple[str, dict[str, Any]]:
    """Resolve a profile reference (built-in name or path) to (file label, raw mapping)."""
    if os.sep in ref or ref.endswith((".yaml", ".yml")) or "/" in ref:
        path = ref if os.path.isabs(ref) or relative_to is None else os.path.join(os.path.dirname(relative_to), ref)
        label = path
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise ProfileError(f"cannot read profile: {e.strerror}", file=path) from None
    else:
        res = builtin_dir() / f"{ref}.yaml"
        if not res.is_file():
            raise ProfileError(f"no such profile {ref!r}; built-in profiles: {', '.join(builtin_names())}")
        label = f"<built-in {ref}>"
        text = res.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ProfileError(f"not valid YAML: {e}", file=label) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ProfileError("a profile must be a mapping", file=label)
    return label, raw


def _merge(base: Any, over: Any) -> Any:
    """Deep-merge mappings; anything else (lists included) is replaced by the overriding value."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def _check_type(value: Any, default: Any, where: str, label: str) -> None:
    if default is None or value is None:
        return
    ok_types: tuple[type, ...]
    if isinstance(default, bool):
        ok_types = (bool,)
    elif isinstance(default, (int, float)):
        ok_types = (int, float)
    else:
        ok_types = (type(default),)
    if not isinstance(value, ok_types) or (isinstance(value, bool) and not isinstance(default, bool)):
        raise ProfileError(f"{where}: expected {type(default).__name__}, got {type(value).__name__}", file=label)


def _validate_section(section: Any, registry: dict[str, dict[str, Any]], kind: str, label: str) -> None:
    if section is None:
        return
    if not isinstance(section, dict):
        raise ProfileError(f"{kind}: must be a mapping", file=label)
    for mid, opts in section.items():
        if mid not in registry:
            raise ProfileError(f"{kind}.{mid}: unknown {kind[:-1]}; known: {', '.join(registry)}", file=label)
        if not isinstance(opts, dict):
            raise ProfileError(f"{kind}.{mid}: must be a mapping of options", file=label)
        defaults = registry[mid]
        for key, value in opts.items():
            if key != "enabled" and key not in defaults:
                known = ", ".join(["enabled", *defaults])
                raise ProfileError(f"{kind}.{mid}.{key}: unknown option; known: {known}", file=label)
            _check_type(value, True if key == "enabled" else defaults[key], f"{kind}.{mid}.{key}", label)


def _resolve_raw(ref: str, relative_to: str | None, seen: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    from kharden.generators import GENERATOR_DEFAULTS
    from kharden.mutators import MUTATOR_DEFAULTS

    label, raw = _read(ref, relative_to)
    if label in seen:
        raise ProfileError(f"extends loops back to {label}", file=label)
    for key in raw:
        if key not in TOP_KEYS:
            raise ProfileError(f"{key}: unknown key; known: {', '.join(sorted(TOP_KEYS))}", file=label)
    _validate_section(raw.get("mutators"), MUTATOR_DEFAULTS, "mutators", label)
    _validate_section(raw.get("generators"), GENERATOR_DEFAULTS, "generators", label)
    from kharden import admission_settings

    admission_settings.validate(raw.get("admission"), label)
    if "pss" in raw and raw["pss"] not in PSS_LEVELS:
        raise ProfileError(f"pss: must be one of {', '.join(PSS_LEVELS)}", file=label)
    if "podTemplates" in raw:
        _validate_templates(raw["podTemplates"], label)
    parent = raw.get("extends")
    if parent is None:
        return raw, (label,)
    if not isinstance(parent, str):
        raise ProfileError("extends: must be a profile name or path", file=label)
    base, files = _resolve_raw(parent, label if not label.startswith("<") else None, seen + (label,))
    merged = _merge(base, {k: v for k, v in raw.items() if k != "extends"})
    if "podTemplates" in raw and "podTemplates" in base:  # templates accumulate along the chain
        merged["podTemplates"] = base["podTemplates"] + raw["podTemplates"]
    return merged, files + (label,)


def _validate_templates(value: Any, label: str) -> None:
    if not isinstance(value, list):
        raise ProfileError("podTemplates: must be a list", file=label)
    for i, t in enumerate(value):
        if not isinstance(t, dict) or set(t) != {"apiVersion", "kind", "path"}:
            raise ProfileError(f"podTemplates[{i}]: needs exactly apiVersion, kind and path", file=label)
        if not all(isinstance(t[k], str) for k in t):
            raise ProfileError(f"podTemplates[{i}]: apiVersion, kind and path must be strings", file=label)


def load_profile(ref: str) -> Profile:
    """Load a built-in profile by name or a profile file by path, resolving `extends:`."""
    from kharden.generators import GENERATOR_DEFAULTS
    from kharden.mutators import MUTATOR_DEFAULTS

    raw, files = _resolve_raw(ref, None, ())
    mutators = {
        mid: {"enabled": False, **copy.deepcopy(d), **(raw.get("mutators") or {}).get(mid, {})}
        for mid, d in MUTATOR_DEFAULTS.items()
    }
    generators = {
        gid: {"enabled": False, **copy.deepcopy(d), **(raw.get("generators") or {}).get(gid, {})}
        for gid, d in GENERATOR_DEFAULTS.items()
    }
    templates: dict[tuple[str, str], Path] = {}
    for t in raw.get("podTemplates") or []:
        group = t["apiVersion"].split("/")[0] if "/" in t["apiVersion"] else ""
        templates[(group, t["kind"])] = tuple(int(p) if p.isdigit() else p for p in t["path"].split("."))
    name = os.path.splitext(os.path.basename(ref))[0]
    return Profile(
        name=name,
        description=str(raw.get("description", "")),
        pss=str(raw.get("pss", "baseline")),
        pod_templates=templates,
        mutators=mutators,
        generators=generators,
        files=files,
        admission=dict(raw.get("admission") or {}),
    )
