"""Generators, in pipeline order: objects the manifests lack (NetworkPolicies, ServiceAccounts, Roles)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from kharden.generators import rbac

REGISTRY: list[ModuleType] = [rbac]

GENERATORS: dict[str, ModuleType] = {g.ID: g for g in REGISTRY}
GENERATOR_DEFAULTS: dict[str, dict[str, Any]] = {g.ID: g.DEFAULTS for g in REGISTRY}
