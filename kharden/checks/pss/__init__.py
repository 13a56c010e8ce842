"""Pod Security Standards checks (`kharden check --pss baseline|restricted`), as the admission controller judges.

    from kharden.checks.pss import check_objects
    findings = check_objects(objects, "restricted", version="1.25")

Each control is one function with upstream's check ID (`pss.<checkID>` in findings), a level, and the policy
versions where it was added or changed. The ordered registry is in `registry.py`; docs/pss.md is the control table.
"""

from __future__ import annotations

from kharden.checks.pss.base import LATEST, LEVELS, parse_version
from kharden.checks.pss.fixability import FIXED_BY, NOT_FIXABLE, left_because
from kharden.checks.pss.registry import REGISTRY, active_checks, check_objects, check_pod

__all__ = [
    "FIXED_BY",
    "LATEST",
    "LEVELS",
    "NOT_FIXABLE",
    "REGISTRY",
    "active_checks",
    "check_objects",
    "check_pod",
    "left_because",
    "parse_version",
]
