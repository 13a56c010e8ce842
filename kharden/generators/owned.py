"""Generated objects are kharden's own, and each run regenerates them from the current inputs.

Every object a generator makes carries `app.kubernetes.io/managed-by: kharden` (kharden.generators.base). An
earlier run's objects (`kharden-generated.yaml`, or the kpt/KRM items filed there) are therefore recognised as
kharden's, not as policy the user wrote: they are kept out of the inputs (so `allow-dns` of the last run no longer
"decides" the egress of a workload added since), and the new run's objects replace them by identity. Objects of an
earlier run that this run did not make again are kept: a run over part of a repository cannot know whether files
it did not read still name them (a ServiceAccount, a policy), and removing a referenced one breaks the workload.
"""

from __future__ import annotations

from typing import Any

from kharden.generators.base import MANAGED_BY

Identity = tuple[str, str, str, str]


def is_ours(obj: Any) -> bool:
    """Does this object (a dict) carry kharden's managed-by label?"""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return isinstance(labels, dict) and all(labels.get(k) == v for k, v in MANAGED_BY.items())


def identity(obj: dict[str, Any]) -> Identity:
    meta: dict[str, Any] = m if isinstance(m := obj.get("metadata"), dict) else {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return (group, str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))


def merged(earlier: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The earlier objects in their order, each replaced by this run's object of the same identity; then this run's
    other objects in their order."""
    by_id = {identity(o): o for o in new}
    out = [by_id.pop(identity(o), o) for o in earlier]
    taken = {identity(o) for o in out}
    return out + [o for o in new if identity(o) not in taken]
