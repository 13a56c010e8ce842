"""The `Hardening` config kind shared by the kustomize exec plugin and the KRM function.

    apiVersion: kharden.dev/v1
    kind: Hardening
    metadata: {name: harden}
    spec:
      profile: restricted      # built-in name, or a profile file (relative to the kustomization / cwd)
      generate: false          # generate NetworkPolicies / RBAC (default: what the profile says)
      enforce: false           # unfixed violations are errors: the plugin / function fails
      summary: false           # write kharden's summary to stderr

A plain ConfigMap works as well (what `kpt fn eval --exec ... -- profile=baseline` passes): its `data` holds the
same keys as strings. An unknown key is an error that names it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from kharden.errors import UsageError

API_VERSION = "kharden.dev/v1"
KIND = "Hardening"
SPEC_KEYS: dict[str, type] = {"profile": str, "generate": bool, "enforce": bool, "summary": bool}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class HardeningConfig:
    profile: str = "restricted"
    generate: bool | None = None
    enforce: bool = False
    summary: bool = False


def from_object(obj: Any, where: str = "config", base_dir: str | None = None) -> HardeningConfig:
    """Read a Hardening (or ConfigMap) object; `base_dir` anchors a relative profile path. None -> defaults."""
    if obj is None:
        return HardeningConfig()
    if not isinstance(obj, dict):
        raise UsageError(f"{where}: expected a {KIND} object")
    kind = obj.get("kind")
    if kind == "ConfigMap":
        spec = {k: _from_string(k, v, where) for k, v in (obj.get("data") or {}).items()}
    elif kind == KIND and obj.get("apiVersion") == API_VERSION:
        spec = obj.get("spec") or {}
    else:
        raise UsageError(f"{where}: expected apiVersion {API_VERSION}, kind {KIND} (or a ConfigMap), got "
                         f"{obj.get('apiVersion')}/{kind}")
    if not isinstance(spec, dict):
        raise UsageError(f"{where}: spec must be a mapping")
    for key, value in spec.items():
        if key not in SPEC_KEYS:
            raise UsageError(f"{where}: spec.{key}: unknown option; known: {', '.join(SPEC_KEYS)}")
        if not isinstance(value, SPEC_KEYS[key]):
            raise UsageError(f"{where}: spec.{key}: expected {SPEC_KEYS[key].__name__}, got {type(value).__name__}")
    config = HardeningConfig(**spec)
    return _anchor(config, base_dir)


def _from_string(key: str, value: Any, where: str) -> Any:
    if SPEC_KEYS.get(key) is bool and isinstance(value, str):
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise UsageError(f"{where}: data.{key}: expected true or false, got {value!r}")
    return value


def _anchor(config: HardeningConfig, base_dir: str | None) -> HardeningConfig:
    """A profile given as a relative path is relative to the kustomization (or the current directory)."""
    p = config.profile
    is_path = "/" in p or os.sep in p or p.endswith((".yaml", ".yml"))
    if base_dir and is_path and not os.path.isabs(p):
        from dataclasses import replace

        return replace(config, profile=os.path.join(base_dir, p))
    return config
