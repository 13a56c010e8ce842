"""Generators, in pipeline order: objects the manifests lack (NetworkPolicies, ServiceAccounts, Roles)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from kharden.generators import networkpolicies, rbac

# rbac first: the ServiceAccounts it turns the token off for need no egress to the API server.
REGISTRY: list[ModuleType] = [rbac, networkpolicies]

GENERATORS: dict[str, ModuleType] = {g.ID: g for g in REGISTRY}
GENERATOR_DEFAULTS: dict[str, dict[str, Any]] = {g.ID: g.DEFAULTS for g in REGISTRY}
