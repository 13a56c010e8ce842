"""Generators, in pipeline order: objects the manifests lack (NetworkPolicies, ServiceAccounts, Roles)."""

from __future__ import annotations

from types import ModuleType

from kharden.generators import networkpolicies, secrets
from kharden.generators.rbac import generator as rbac
from kharden.options import ProfileOptions

# rbac first: the ServiceAccounts it turns the token off for need no egress to the API server.
# secrets last: the NetworkPolicy generator reads env values (connection strings) before they move into a Secret.
REGISTRY: list[ModuleType] = [rbac, networkpolicies, secrets]

GENERATORS: dict[str, ModuleType] = {g.ID: g for g in REGISTRY}
GENERATOR_OPTIONS: dict[str, type[ProfileOptions]] = {g.ID: g.Options for g in REGISTRY}
