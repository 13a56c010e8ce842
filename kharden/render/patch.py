"""RFC 6902 JSON patches, one per changed object, with the object's identity.

Applying an entry's `patch` with the `jsonpatch` library to the input object gives the output object.
"""

from __future__ import annotations

from typing import Any, Iterable

from kharden.model import Change, ObjectRef


def patches(changes: Iterable[Change]) -> list[dict[str, Any]]:
    by_obj: dict[ObjectRef, list[Change]] = {}
    for c in changes:
        by_obj.setdefault(c.obj, []).append(c)
    out = []
    for ref, cs in by_obj.items():
        out.append(
            {
                "file": ref.file,
                "document": ref.doc,
                **({"item": ref.item} if ref.item is not None else {}),
                "apiVersion": ref.api_version,
                "kind": ref.kind,
                "namespace": ref.namespace,
                "name": ref.name,
                "patch": [c.patch_op() for c in cs],
            }
        )
    return out
