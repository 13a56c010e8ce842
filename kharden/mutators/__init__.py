"""Mutators, in pipeline order. Registration is this explicit list: no scanning, no import-time magic."""

from __future__ import annotations

from types import ModuleType
from typing import Any

REGISTRY: list[ModuleType] = []

MUTATORS: dict[str, ModuleType] = {m.ID: m for m in REGISTRY}
MUTATOR_DEFAULTS: dict[str, dict[str, Any]] = {m.ID: m.DEFAULTS for m in REGISTRY}
