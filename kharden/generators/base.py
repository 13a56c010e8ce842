"""What a generator is.

A generator is one module with:
  ID        the name used in profiles (`generators: {<ID>: {...}}`) and in reports
  Options   its options: a frozen dataclass of typed fields with defaults (kharden/options.py)
  generate(objects, opts, editor_for, **kw) -> Generated

`objects` are the live, already-mutated objects of the whole input. New objects are returned as plain dicts, in a
deterministic order; edits to existing objects (a `serviceAccountName`, say) go through `editor_for(obj)`, an
`Editor` that records each edit as a Change under the generator's ID. Extra keyword arguments (e.g. `audit_log`)
are passed to every generator; each takes what it knows and ignores the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kharden.model import Finding

MANAGED_BY = {"app.kubernetes.io/managed-by": "kharden"}


@dataclass
class Generated:
    objects: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
