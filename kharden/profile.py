"""Profiles are data: YAML files with `extends:`, validated on load against the registered mutators and generators.

    extends: baseline            # a built-in name or a path (relative to this file)
    description: ...
    pss: restricted              # Pod Security Standards level the profile answers to
    podTemplates:                # custom kinds that embed a pod template
      - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, path: spec.template}
    protectedNamespaces: [kube-system, kube-public, kube-node-lease]   # reported, never changed (the default)
    mutators:
      <mutator ID>: {enabled: true, <option>: <value>, ...}
    generators:
      <generator ID>: {enabled: false, <option>: <value>, ...}
    checks:
      <check ID>: {enabled: true, <option>: <value>, ...}     # images, secrets: reported by check and fix

A key that is not known, or a value whose type differs from the default's, is an error naming the key and file.
Each module's options load into its frozen `Options` dataclass (kharden/options.py) through `options()`, the one
function that validates them; stages read attributes (`opts.enforce`).
"""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

import yaml

from kharden.errors import ProfileError
from kharden.model import Path
from kharden.options import ProfileOptions, as_profile, fields_by_key

TOP_KEYS = {"extends", "description", "pss", "podTemplates", "mutators", "generators", "checks", "admission",
            "protectedNamespaces"}
# The cluster's own namespaces: reported, never changed (kharden/know/protected.py). A profile's list replaces it.
PROTECTED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
PSS_LEVELS = ("privileged", "baseline", "restricted")
OptionsT = TypeVar("OptionsT", bound=ProfileOptions)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    pss: str
    pod_templates: dict[tuple[str, str], Path]
    mutators: dict[str, ProfileOptions]  # ID -> the mutator's `Options` (defaults merged), in registry order
    generators: dict[str, ProfileOptions]
    files: tuple[str, ...] = field(default=())  # the chain of files it was resolved from
    checks: dict[str, ProfileOptions] = field(default_factory=dict)  # check ID -> options (kharden.checks.CHECKS)
    admission: dict[str, Any] = field(default_factory=dict)  # `kharden serve`'s answers (kharden.admission_settings)
    protected_namespaces: tuple[str, ...] = PROTECTED_NAMESPACES

    def only_generator(self, gid: str | None) -> Profile:
        """This profile with only generator `gid` enabled (`kharden generate rbac`); itself for None."""
        if gid is None:
            return self
        gens = {g: dataclasses.replace(o, enabled=g == gid) for g, o in self.generators.items()}
        return dataclasses.replace(self, generators=gens)

    def with_generator(self, gid: str, **opts: Any) -> Profile:
        """This profile with generator `gid` switched on and these options (field names) set (`--move-secrets`)."""
        on = dataclasses.replace(self.generators[gid], enabled=True, **opts)
        return dataclasses.replace(self, generators={**self.generators, gid: on})

    def with_kube_version(self, version: str | None) -> Profile:
        """This profile targeting another Kubernetes release (`--kube-version`); itself for None."""
        if not version:
            return self
        from kharden.apiversions.table import parse_version
        from kharden.mutators import api_versions

        parse_version(version)  # a bad version is a usage error before any file is read
        current = self.mutators["apiVersions"]
        assert isinstance(current, api_versions.Options)
        mutators = {**self.mutators, "apiVersions": dataclasses.replace(current, kube_version=version)}
        return dataclasses.replace(self, mutators=mutators)

    def enabled_mutators(self) -> list[str]:
        return [m for m, o in self.mutators.items() if o.enabled]

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
            "mutators": {m: as_profile(o) for m, o in self.mutators.items()},
            "generators": {g: as_profile(o) for g, o in self.generators.items()},
            "checks": {c: as_profile(o) for c, o in self.checks.items()},
            "protectedNamespaces": list(self.protected_namespaces),
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


def options(base: OptionsT, raw: dict[str, Any], where: str, label: str | None = None) -> OptionsT:
    """`base` with a profile's settings `raw` (profile keys -> values) applied: the one place that validates a
    module's options. An unknown key, or a value whose type differs from the default's, is an error naming the
    key (`where` is its section, e.g. "mutators.capabilities") and the file. A list becomes a tuple."""
    known = fields_by_key(type(base))
    defaults = type(base)()
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ProfileError(f"{where}.{key}: unknown option; known: {', '.join(known)}", file=label)
        f = known[key]
        changes[f.name] = _checked(value, getattr(defaults, f.name), f"{where}.{key}", label)
    return dataclasses.replace(base, **changes)


def _checked(value: Any, default: Any, where: str, label: str | None) -> Any:
    """`value` as the option holds it, if its type fits the default's (null always fits: "not set")."""
    if default is None or value is None:
        return value
    ok_types: tuple[type, ...]
    if isinstance(default, bool):
        ok_types = (bool,)
    elif isinstance(default, (int, float)):
        ok_types = (int, float)
    elif isinstance(default, tuple):
        ok_types = (list,)  # a profile writes a list; the option holds it frozen
    else:
        ok_types = (type(default),)
    if not isinstance(value, ok_types) or (isinstance(value, bool) and not isinstance(default, bool)):
        expected = "list" if isinstance(default, tuple) else type(default).__name__
        raise ProfileError(f"{where}: expected {expected}, got {type(value).__name__}", file=label)
    if isinstance(value, list) and isinstance(default, tuple):
        return tuple(value)
    return copy.deepcopy(value)


def _validate_section(section: Any, registry: dict[str, type[ProfileOptions]], kind: str, label: str) -> None:
    if section is None:
        return
    if not isinstance(section, dict):
        raise ProfileError(f"{kind}: must be a mapping", file=label)
    for mid, opts in section.items():
        if mid not in registry:
            raise ProfileError(f"{kind}.{mid}: unknown {kind[:-1]}; known: {', '.join(registry)}", file=label)
        if not isinstance(opts, dict):
            raise ProfileError(f"{kind}.{mid}: must be a mapping of options", file=label)
        options(registry[mid](), opts, f"{kind}.{mid}", label)


def _resolve_raw(ref: str, relative_to: str | None, seen: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    from kharden.generators import GENERATOR_OPTIONS
    from kharden.mutators import MUTATOR_OPTIONS

    label, raw = _read(ref, relative_to)
    if label in seen:
        raise ProfileError(f"extends loops back to {label}", file=label)
    for key in raw:
        if key not in TOP_KEYS:
            raise ProfileError(f"{key}: unknown key; known: {', '.join(sorted(TOP_KEYS))}", file=label)
    _validate_section(raw.get("mutators"), MUTATOR_OPTIONS, "mutators", label)
    _validate_section(raw.get("generators"), GENERATOR_OPTIONS, "generators", label)
    _validate_section(raw.get("checks"), _check_options(), "checks", label)
    from kharden import admission_settings

    admission_settings.validate(raw.get("admission"), label)
    if "pss" in raw and raw["pss"] not in PSS_LEVELS:
        raise ProfileError(f"pss: must be one of {', '.join(PSS_LEVELS)}", file=label)
    if "podTemplates" in raw:
        _validate_templates(raw["podTemplates"], label)
    protected = raw.get("protectedNamespaces", [])
    if not isinstance(protected, list) or not all(isinstance(n, str) and n for n in protected):
        raise ProfileError("protectedNamespaces: must be a list of namespace names", file=label)
    parent = raw.get("extends")
    if parent is None:
        return raw, (label,)
    if not isinstance(parent, str):
        raise ProfileError("extends: must be a profile name or path", file=label)
    try:
        base, files = _resolve_raw(parent, label if not label.startswith("<") else None, seen + (label,))
    except ProfileError as e:
        if e.file is not None:
            raise
        raise ProfileError(f"extends: {e.message}", file=label) from None  # name the file that says `extends:`
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
    from kharden.generators import GENERATOR_OPTIONS
    from kharden.mutators import MUTATOR_OPTIONS

    raw, files = _resolve_raw(ref, None, ())
    mutators = _section(raw, "mutators", MUTATOR_OPTIONS, files[-1])
    generators = _section(raw, "generators", GENERATOR_OPTIONS, files[-1])
    checks = _section(raw, "checks", _check_options(), files[-1])
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
        checks=checks,
        admission=dict(raw.get("admission") or {}),
        protected_namespaces=tuple(raw.get("protectedNamespaces", PROTECTED_NAMESPACES)),
    )


def _section(raw: dict[str, Any], kind: str, registry: dict[str, type[ProfileOptions]],
             label: str) -> dict[str, ProfileOptions]:
    """Every registered module's options, in registry order, with the resolved profile's settings applied."""
    given = raw.get(kind) or {}
    return {mid: options(cls(), given.get(mid, {}), f"{kind}.{mid}", label) for mid, cls in registry.items()}


def _check_options() -> dict[str, type[ProfileOptions]]:
    from kharden.checks import CHECK_OPTIONS

    return CHECK_OPTIONS
