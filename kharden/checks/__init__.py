"""Checks beyond the Pod Security Standards and RBAC that a profile configures: images, plaintext secrets.

Each is one module with `ID`, `Options` (its profile options under `checks.<ID>`) and a pure
`check(pods, opts) -> [Finding]`, where `pods` is every object with its pod targets (`[(KObject, [PodTarget])]`). Registration is this explicit list; its order is the report's.
`kharden check --profile P` runs the enabled ones; `kharden fix` reports what they still find after fixing.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from kharden.checks import images, secrets
from kharden.options import ProfileOptions

REGISTRY: list[ModuleType] = [images, secrets]

CHECKS: dict[str, ModuleType] = {c.ID: c for c in REGISTRY}
CHECK_OPTIONS: dict[str, type[ProfileOptions]] = {c.ID: c.Options for c in REGISTRY}


def check_each(objects: list[Any], checks: dict[str, ProfileOptions], templates: Any) -> list[list[Any]]:
    """Findings of each registered check, one list per check (empty when disabled: as many lists whatever the
    input, for `check -j` to join file by file). The pod targets are found once and shared (with their containers,
    read once each): the checks walk the same pods."""
    from kharden.find.podspecs import find_pod_targets

    enabled = [(CHECKS[cid], checks.get(cid)) for cid in CHECKS]
    if not any(opts and opts.enabled for _, opts in enabled):
        return [[] for _ in enabled]
    pods = [(obj, find_pod_targets(obj, templates)) for obj in objects]
    return [check.check(pods, opts) if opts and opts.enabled else [] for check, opts in enabled]


def run_checks(objects: list[Any], checks: dict[str, ProfileOptions], templates: Any) -> list[Any]:
    """Findings of every enabled check, check by check."""
    return [f for group in check_each(objects, checks, templates) for f in group]
